package mqtt

import "github.com/eventpub/eventpub/transport"

var _ transport.Namer = (*Transport)(nil)

// Name returns "mqtt", the messaging system t speaks to (transport.Namer).
func (t *Transport) Name() string { return "mqtt" }
