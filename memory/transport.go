package memory

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/eventpub/eventpub/transport"
)

// Transport is one connection to a Broker. It implements
// transport.Transport, transport.BatchPublisher and
// transport.PatternSubscriber, and is safe for concurrent use.
type Transport struct {
	b      *Broker
	closed atomic.Bool
	done   chan struct{} // closed by Close
	once   sync.Once

	mu   sync.Mutex
	subs map[*Subscription]struct{} // open subscriptions; nil once closed
}

var (
	_ transport.Transport         = (*Transport)(nil)
	_ transport.BatchPublisher    = (*Transport)(nil)
	_ transport.PatternSubscriber = (*Transport)(nil)
)

// Broker returns the broker t is connected to.
func (t *Transport) Broker() *Broker { return t.b }

// Dropped counts the messages t's broker dropped for slow subscribers, over
// all transports of that broker.
func (t *Transport) Dropped() uint64 { return t.b.Dropped() }

// Capabilities reports Ordered and Headers, Persistent when the broker keeps
// history, and the configured MaxPayload.
func (t *Transport) Capabilities() transport.Capabilities {
	return transport.Capabilities{
		Persistent: t.b.cfg.history > 0,
		Headers:    true,
		Ordered:    true,
		MaxPayload: t.b.cfg.maxPayload,
	}
}

// ready reports why t cannot take a call now, or nil.
func (t *Transport) ready(ctx context.Context) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.b.down.Load() {
		return transport.Unavailable(errDown)
	}
	return nil
}

// Ping returns nil unless t is closed, ctx is done or the broker is down.
func (t *Transport) Ping(ctx context.Context) error { return t.ready(ctx) }

// Publish delivers msg to every subscription on its channel and returns once
// each has it (see Overflow for full buffers). It copies the payload and the
// header, so the caller may reuse them.
func (t *Transport) Publish(ctx context.Context, msg transport.Message) error {
	if err := t.ready(ctx); err != nil {
		return err
	}
	if err := t.check(msg); err != nil {
		return err
	}
	return t.b.route(ctx, t.done, msg)
}

// PublishBatch publishes msgs in order. A message refused on its own (an
// invalid channel, a payload over the limit) does not stop the ones after
// it; the *transport.BatchError's Results then give each message's fate.
// A failure that stops every message (the broker down, the context) ends
// the batch, and its Sent counts the messages delivered before it.
func (t *Transport) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	if err := t.ready(ctx); err != nil {
		return &transport.BatchError{Err: err}
	}
	var results []error // made at the first refused message
	for i, m := range msgs {
		if err := t.check(m); err != nil {
			if results == nil {
				results = make([]error, len(msgs))
			}
			results[i] = fmt.Errorf("memory: batch message %d: %w", i, err)
			continue
		}
		if err := t.b.route(ctx, t.done, m); err != nil {
			sent := i
			if results != nil {
				sent = firstErr(results)
			}
			return &transport.BatchError{Sent: sent, Err: err}
		}
	}
	if results == nil {
		return nil
	}
	sent := firstErr(results)
	return &transport.BatchError{Sent: sent, Results: results, Err: results[sent]}
}

// firstErr returns the index of the first non-nil error in results.
func firstErr(results []error) int {
	i := 0
	for i < len(results) && results[i] == nil {
		i++
	}
	return i
}

// check validates msg against the channel rules and MaxPayload.
func (t *Transport) check(msg transport.Message) error {
	if err := validChannel(msg.Channel, "channel"); err != nil {
		return err
	}
	if max := t.b.cfg.maxPayload; max > 0 && len(msg.Payload) > max {
		return transport.Invalid(transport.ErrPayloadTooLarge,
			"payload of %d bytes on channel %q is over the memory broker's limit of %d", len(msg.Payload), msg.Channel, max)
	}
	return nil
}

// validChannel applies transport.ValidateChannel, the rules every driver
// shares, to a channel or pattern name; the memory broker adds none.
func validChannel(name, what string) error {
	if err := transport.ValidateChannel(name); err != nil {
		if name == "" {
			return transport.Invalid(transport.ErrInvalidChannel, "%s name is empty", what)
		}
		return err
	}
	return nil
}

// Subscribe returns a subscription to channels. Delivery has begun when it
// returns; with history the kept messages of channels come first.
func (t *Transport) Subscribe(ctx context.Context, channels ...string) (transport.Subscription, error) {
	return t.subscribe(ctx, channels, false)
}

// SubscribePattern returns a subscription to every channel matching one of
// patterns (Redis-style globs, see the package doc). Each message carries the
// channel it was published on.
func (t *Transport) SubscribePattern(ctx context.Context, patterns ...string) (transport.Subscription, error) {
	return t.subscribe(ctx, patterns, true)
}

func (t *Transport) subscribe(ctx context.Context, names []string, pattern bool) (transport.Subscription, error) {
	if err := t.ready(ctx); err != nil {
		return nil, err
	}
	what := "channel"
	if pattern {
		what = "pattern"
	}
	if len(names) == 0 {
		return nil, transport.Invalid(transport.ErrInvalidChannel, "Subscribe needs at least one %s", what)
	}
	for _, n := range names {
		if err := validChannel(n, what); err != nil {
			return nil, err
		}
		if pattern {
			if err := validPattern(n); err != nil {
				return nil, err
			}
		}
	}
	names = slices.Clone(names)
	slices.Sort(names)
	names = slices.Compact(names)
	s := &Subscription{t: t, ch: make(chan transport.Message, t.b.cfg.buffer), done: make(chan struct{})}
	if pattern {
		s.patterns = names
	} else {
		s.channels = names
	}

	t.mu.Lock()
	if t.subs == nil {
		t.mu.Unlock()
		return nil, transport.ErrClosed
	}
	t.subs[s] = struct{}{}
	t.mu.Unlock()
	t.b.register(s)
	return s, nil
}

// forget removes s from t's open subscriptions.
func (t *Transport) forget(s *Subscription) {
	t.mu.Lock()
	delete(t.subs, s)
	t.mu.Unlock()
}

// Close ends t's subscriptions; later calls on t return transport.ErrClosed.
// It is idempotent and always returns nil.
func (t *Transport) Close() error {
	t.once.Do(func() {
		t.closed.Store(true)
		close(t.done)
		t.mu.Lock()
		subs := t.subs
		t.subs = nil
		t.mu.Unlock()
		for s := range subs {
			s.Close()
		}
	})
	return nil
}
