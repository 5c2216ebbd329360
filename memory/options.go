package memory

import (
	"fmt"

	"github.com/eventpub/eventpub/observe"
)

// Overflow says what Publish does for a subscriber whose buffer is full.
type Overflow int

const (
	// Block makes the publisher wait for room, up to its context. It is the
	// default: no message is lost while the publisher's context lives.
	Block Overflow = iota
	// Drop drops the message for the full subscriber only and counts it.
	Drop
)

// String returns "block" or "drop".
func (o Overflow) String() string {
	switch o {
	case Block:
		return "block"
	case Drop:
		return "drop"
	}
	return fmt.Sprintf("Overflow(%d)", int(o))
}

// Defaults used when no option says otherwise.
const (
	// DefaultBuffer is the per-subscription buffer, in messages.
	DefaultBuffer = 1024
	// DefaultMaxPayload is the largest payload accepted, in bytes (1 MiB,
	// the default limit of a NATS server, so tests catch what would not fit
	// there).
	DefaultMaxPayload = 1 << 20
)

// Option configures a Broker.
type Option func(*config)

type config struct {
	buffer     int
	overflow   Overflow
	maxPayload int
	history    int
	observers  []observe.Observer
}

func defaultConfig() config {
	return config{buffer: DefaultBuffer, overflow: Block, maxPayload: DefaultMaxPayload}
}

// WithBuffer sets how many messages each subscription holds before the
// overflow policy applies. Values below 1 mean 1.
func WithBuffer(n int) Option {
	return func(c *config) { c.buffer = max(n, 1) }
}

// WithOverflow sets what happens when a subscription's buffer is full.
// An unknown value means Block.
func WithOverflow(o Overflow) Option {
	return func(c *config) {
		if o != Drop {
			o = Block
		}
		c.overflow = o
	}
}

// WithMaxPayload sets the largest payload Publish accepts, in bytes; larger
// ones fail with transport.ErrPayloadTooLarge. 0 (or less) means no limit.
// Capabilities().MaxPayload reports it.
func WithMaxPayload(n int) Option {
	return func(c *config) { c.maxPayload = max(n, 0) }
}

// WithHistory keeps the last n messages of every channel; a new subscription
// receives them first. 0 (or less) keeps none.
func WithHistory(n int) Option {
	return func(c *config) { c.history = max(n, 0) }
}

// WithObserver adds observers (see package observe) that hear each message
// dropped for a slow subscriber (Dropped, with the channel) and the broker
// going down and up (Link, from SetDown). Dropped keeps counting either way.
func WithObserver(obs ...observe.Observer) Option {
	return func(c *config) { c.observers = append(c.observers, obs...) }
}
