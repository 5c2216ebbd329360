package amqp

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/eventpub/eventpub/transport"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// Subscribe starts delivery of channels. Without Config.Queue the
// subscription gets an exclusive auto-delete queue of its own, bound to
// each channel; it ends with the subscription, and messages published
// while it does not exist (before Subscribe, during an outage) are not
// kept. With Config.Queue the channels are bound to the durable queue,
// which keeps what is routed to it while nobody reads. It returns once
// the broker has confirmed the queue, its bindings and the consumer.
func (t *Transport) Subscribe(ctx context.Context, channels ...string) (transport.Subscription, error) {
	return t.subscribe(ctx, channels, false)
}

// SubscribePattern subscribes to AMQP topic patterns: words are separated
// by '.', "*" matches one word and "#" zero or more ("codeworm.#",
// "*.events", "#" for every channel). Wildcards must be whole words: a
// Redis-style "codeworm:*" is refused with transport.ErrInvalidChannel,
// since AMQP would match it literally. Each Message carries the channel it
// was published on.
func (t *Transport) SubscribePattern(ctx context.Context, patterns ...string) (transport.Subscription, error) {
	return t.subscribe(ctx, patterns, true)
}

func (t *Transport) subscribe(ctx context.Context, keys []string, pattern bool) (transport.Subscription, error) {
	if t.closed.Load() {
		return nil, transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		return nil, errNoChannels
	}
	var uniq []string
	for _, k := range keys {
		check := validChannel
		if pattern {
			check = validPattern
		}
		if err := check(k); err != nil {
			return nil, err
		}
		if !slices.Contains(uniq, k) {
			uniq = append(uniq, k)
		}
	}
	s, err := t.current()
	if err != nil {
		return nil, err
	}
	sub := &subscription{t: t, keys: uniq, pattern: pattern,
		buf: make(chan delivery, t.cfg.SubscriptionBuffer), done: make(chan struct{})}
	if t.cfg.Queue == "" {
		c := &consumer{t: t, keys: uniq, sinks: map[*subscription]struct{}{sub: {}}, done: make(chan struct{}), stopped: make(chan struct{})}
		if err := t.startConsumer(ctx, s, c); err != nil {
			return nil, err
		}
		sub.c = c
	} else if err := t.joinQueue(ctx, s, sub); err != nil {
		return nil, err
	}
	t.smu.Lock()
	if t.closed.Load() {
		t.smu.Unlock()
		_ = sub.Close()
		return nil, transport.ErrClosed
	}
	t.subs[sub] = struct{}{}
	t.smu.Unlock()
	return sub, nil
}

// startConsumer opens c on s within ctx and starts its delivery loop.
func (t *Transport) startConsumer(ctx context.Context, s *session, c *consumer) error {
	var dels <-chan amqp091.Delivery
	err := t.callCtx(ctx, s, func() (func(), error) {
		var err error
		dels, err = c.open(s)
		return c.closeChannel, err
	})
	if err != nil {
		return err
	}
	if !t.goBG(func() { c.loop(dels) }) {
		c.closeChannel()
		close(c.stopped)
		return transport.ErrClosed
	}
	return nil
}

// joinQueue adds sub to the transport's consumer of the durable queue,
// starting it for the first subscription and binding sub's keys.
func (t *Transport) joinQueue(ctx context.Context, s *session, sub *subscription) error {
	t.qmu.Lock()
	defer t.qmu.Unlock()
	c := t.qc
	if c == nil {
		c = &consumer{t: t, queue: t.cfg.Queue, keys: slices.Clone(sub.keys), seen: &t.seen,
			sinks: map[*subscription]struct{}{sub: {}}, done: make(chan struct{}), stopped: make(chan struct{})}
		if err := t.startConsumer(ctx, s, c); err != nil {
			return err
		}
		t.qc, sub.c = c, c
		return nil
	}
	var add []string
	c.mu.Lock()
	for _, k := range sub.keys {
		if !slices.Contains(c.keys, k) {
			add = append(add, k)
		}
	}
	ch := c.ch
	c.mu.Unlock()
	if len(add) > 0 {
		err := t.callCtx(ctx, s, func() (func(), error) {
			for _, k := range add {
				if err := ch.QueueBind(t.cfg.Queue, k, t.cfg.Exchange, false, nil); err != nil {
					return nil, t.classify(nil, err, fmt.Sprintf("bind queue %q to %q", t.cfg.Queue, k))
				}
			}
			return nil, nil
		})
		if err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.keys = append(c.keys, add...)
	c.sinks[sub] = struct{}{}
	c.mu.Unlock()
	sub.c = c
	return nil
}

// leaveQueue removes sub from the durable queue's consumer, stopping the
// consumer when it was the last: the queue then keeps what arrives.
func (t *Transport) leaveQueue(sub *subscription) {
	t.qmu.Lock()
	defer t.qmu.Unlock()
	c := sub.c
	c.mu.Lock()
	delete(c.sinks, sub)
	empty := len(c.sinks) == 0
	c.mu.Unlock()
	if empty {
		c.stop()
		if t.qc == c {
			t.qc = nil
		}
	}
}

// callCtx runs f, a broker round trip that takes no context, and returns
// at the latest when ctx ends; then it checks the link (suspect) and
// undoes what f made, with the cleanup f returns, once f does return.
func (t *Transport) callCtx(ctx context.Context, s *session, f func() (func(), error)) error {
	type result struct {
		cleanup func()
		err     error
	}
	done := make(chan result, 1)
	abandoned := make(chan struct{})
	if !t.goBG(func() {
		c, err := f()
		done <- result{c, err}
		select {
		case <-abandoned:
			if err == nil && c != nil {
				c()
			}
		default:
		}
	}) {
		return transport.ErrClosed
	}
	select {
	case r := <-done:
		if r.err != nil {
			if r.cleanup != nil {
				r.cleanup()
			}
			return t.classify(ctx, r.err, "subscribe")
		}
		return nil
	case <-ctx.Done():
		close(abandoned)
		t.suspect(s)
		return ctx.Err()
	}
}

// subscription is one Subscribe's view of a consumer.
type subscription struct {
	t       *Transport
	c       *consumer
	keys    []string
	pattern bool
	buf     chan delivery
	done    chan struct{}
	closed  atomic.Bool
	once    sync.Once
}

// wants reports whether a message with routing key key is for s.
func (s *subscription) wants(key string) bool {
	for _, k := range s.keys {
		if k == key || (s.pattern && strings.ContainsAny(k, "*#") && topicMatch(k, key)) {
			return true
		}
	}
	return false
}

// Next returns the next message, ctx.Err() when ctx ends, or
// transport.ErrClosed once the subscription or its transport is closed.
// Reading a message acknowledges it to the broker.
func (s *subscription) Next(ctx context.Context) (transport.Message, error) {
	if s.closed.Load() {
		return transport.Message{}, transport.ErrClosed
	}
	select {
	case d := <-s.buf:
		d.ack.release(true)
		return d.msg, nil
	case <-ctx.Done():
		return transport.Message{}, ctx.Err()
	case <-s.done:
		return transport.Message{}, transport.ErrClosed
	}
}

// Close stops delivery. Messages received but not read are handed back
// to the broker (requeued: with a durable queue they are delivered again).
// It is idempotent.
func (s *subscription) Close() error {
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.done)
		if s.c != nil {
			if s.c.queue == "" {
				s.c.stop()
			} else {
				s.t.leaveQueue(s)
			}
		}
		for {
			select {
			case d := <-s.buf:
				d.ack.release(false)
				continue
			default:
			}
			break
		}
		s.t.smu.Lock()
		delete(s.t.subs, s)
		s.t.smu.Unlock()
	})
	return nil
}
