package memory

import "github.com/eventpub/eventpub/transport"

var _ transport.Namer = (*Transport)(nil)

// Name returns "memory", the messaging system t speaks to (transport.Namer).
func (t *Transport) Name() string { return system }

// system is the messaging system's name observers hear.
const system = "memory"
