package eventpub

import (
	"fmt"
	"time"

	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/sendq"
)

// Option configures a Publisher.
type Option func(*config)

// OverflowPolicy decides what an asynchronous Publisher does with a message
// when its queue is full. It is sendq.Policy.
type OverflowPolicy = sendq.Policy

// The overflow policies (see sendq.Policy).
const (
	// DropNewest rejects the message being published: the call returns
	// ErrQueueFull and the message is counted as dropped.
	DropNewest = sendq.DropNewest
	// DropOldest makes room by dropping the oldest message still waiting
	// and counts it. A message being sent is never dropped: when every
	// queued message is being sent, the new one is dropped as by DropNewest.
	DropOldest = sendq.DropOldest
	// Block waits for room until the caller's context ends; a message that
	// gets none is counted as dropped and the call returns ctx.Err().
	Block = sendq.Block
)

// config holds every setting; defaults are filled in by defaultConfig.
type config struct {
	namespace    string
	clock        func() time.Time
	utc          bool
	async        bool
	capacity     int
	policy       OverflowPolicy
	maxBatch     int
	errorHandler func(error)
	errorEvery   time.Duration
	keepOpen     bool
	messageIDs   bool
	observers    []observe.Observer
}

func defaultConfig() config {
	return config{
		namespace:  "codeworm",
		clock:      time.Now,
		maxBatch:   0, // the queue's default, or what the transport prefers
		errorEvery: sendq.DefaultErrorEvery,
	}
}

// validate reports the first setting that cannot work, naming it.
func (c *config) validate() error {
	if c.clock == nil {
		return fmt.Errorf("eventpub: WithClock: clock is nil")
	}
	if c.async && c.capacity <= 0 {
		return fmt.Errorf("eventpub: WithAsync: capacity must be at least 1, got %d", c.capacity)
	}
	if c.async && (c.policy < DropNewest || c.policy > Block) {
		return fmt.Errorf("eventpub: WithAsync: unknown overflow policy %v", c.policy)
	}
	return nil
}

// WithNamespace sets the prefix of the three standard channels:
// "<ns>:logs", "<ns>:events" and "<ns>:stats". The default is "codeworm".
// An empty namespace gives the bare names "logs", "events" and "stats".
func WithNamespace(ns string) Option { return func(c *config) { c.namespace = ns } }

// WithClock sets the source of envelope timestamps (time.Now by default).
// The timestamp is the wall clock of the time it returns, in that time's
// own location.
func WithClock(now func() time.Time) Option { return func(c *config) { c.clock = now } }

// WithUTC writes envelope timestamps in UTC with an explicit offset
// ("2026-02-19T13:29:00.123456+00:00") instead of CodeWorm's local wall time
// without an offset.
func WithUTC() Option { return func(c *config) { c.utc = true } }

// WithAsync makes every Publish call encode the message, queue it and return
// at once. One goroutine sends the queue in batches, keeps messages queued
// through a broker outage and retries them in order with capped backoff.
// capacity bounds the queue; policy decides what happens when it is full.
func WithAsync(capacity int, policy OverflowPolicy) Option {
	return func(c *config) { c.async, c.capacity, c.policy = true, capacity, policy }
}

// WithErrorHandler sets a function that hears about failures the caller
// cannot see in async mode: dropped messages and failed or retried sends.
// It runs on a goroutine of its own, at most once per second; failures in
// between are counted into the next report. It may log through this same
// Publisher, or close it. After Close no new call starts; one in progress
// may finish after Close has returned.
func WithErrorHandler(h func(error)) Option { return func(c *config) { c.errorHandler = h } }

// WithKeepOpen makes Close leave the transport open, for a transport the
// caller goes on using or closes itself. By default the Publisher owns its
// transport and Close closes it.
func WithKeepOpen() Option { return func(c *config) { c.keepOpen = true } }

// WithMessageIDs gives every message a unique transport.HeaderMessageID
// header, fixed when the message is accepted and kept across retries. A
// broker that de-duplicates by id (NATS JetStream) then stores a message
// once even when the async sender resends a batch whose acks were lost in a
// broken connection. Drivers without headers (Redis) ignore it.
func WithMessageIDs() Option { return func(c *config) { c.messageIDs = true } }

// WithObserver adds observers that hear every message's fate (see package
// observe): accepted, published with its latency, dropped, failed, retried,
// and in async mode the queue's depth and the link's state. The first
// observer that implements observe.Tracer also hears each publish with the
// caller's context (see observe.Tracer). Several WithObserver options add
// up; Metrics keeps counting either way.
func WithObserver(obs ...observe.Observer) Option {
	return func(c *config) { c.observers = append(c.observers, obs...) }
}
