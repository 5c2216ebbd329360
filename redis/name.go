package redis

import "github.com/eventpub/eventpub/transport"

var _ transport.Namer = (*Transport)(nil)

// Name returns "redis", the messaging system t speaks to (transport.Namer).
func (t *Transport) Name() string { return "redis" }
