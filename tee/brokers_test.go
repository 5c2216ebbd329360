package tee_test

// The cross-broker tests open their transports by URL with
// brokertest.Open; these imports register the redis:// and nats:// schemes.
import (
	_ "github.com/eventpub/eventpub/nats"
	_ "github.com/eventpub/eventpub/redis"
)
