package nats_test

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
)

// TestQuietWhileDown: while NATS is down, the driver writes nothing to
// stderr. nats.go has no global logger: it prints asynchronous errors only
// when a connection has no ErrorHandler, and the driver sets one.
func TestQuietWhileDown(t *testing.T) {
	brokertest.QuietWhileDown(t, func(ctx context.Context, addr string) (transport.Transport, error) {
		return nats.Open(ctx, "nats://u:s3cret@"+addr)
	})
}
