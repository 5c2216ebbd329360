package amqp

import "github.com/eventpub/eventpub/transport"

var _ transport.Namer = (*Transport)(nil)

// Name returns "rabbitmq", the messaging system t speaks to (transport.Namer).
func (t *Transport) Name() string { return "rabbitmq" }
