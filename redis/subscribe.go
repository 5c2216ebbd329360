package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// Subscribe starts delivery of channels with SUBSCRIBE (SSUBSCRIBE when
// sharded) and returns once Redis has confirmed every channel. go-redis
// resubscribes after a reconnect, so a subscription keeps delivering when
// Redis comes back after an outage; messages published meanwhile are lost
// (Redis pub/sub keeps nothing). In ModeStreams and ModeDual it reads the
// channels' streams instead, from StreamsConfig.Start or in its Group.
func (t *Transport) Subscribe(ctx context.Context, channels ...string) (transport.Subscription, error) {
	if t.cfg.Mode != ModePubSub {
		return t.subscribeStreams(ctx, t.cfg.Streams.Start, channels)
	}
	mode := "subscribe"
	if t.cfg.Sharded {
		mode = "ssubscribe"
	}
	return t.subscribe(ctx, mode, channels)
}

// SubscribePattern subscribes to Redis glob patterns with PSUBSCRIBE, e.g.
// "codeworm:*" for every CodeWorm channel. Each Message carries the channel
// it was published on. Sharded messages (SPUBLISH) never match a pattern,
// as Redis has no sharded pattern subscribe, so in sharded mode it fails
// with an error matching errors.ErrUnsupported, as in ModeStreams (a stream
// is read by its key). In ModeDual it reads pub/sub: live messages, payload
// only.
func (t *Transport) SubscribePattern(ctx context.Context, patterns ...string) (transport.Subscription, error) {
	if t.cfg.Mode == ModeStreams {
		return nil, errPatternStreams
	}
	if t.cfg.Sharded {
		return nil, fmt.Errorf("eventpub/redis: %w: pattern subscriptions cannot see sharded (SPUBLISH) messages", errors.ErrUnsupported)
	}
	return t.subscribe(ctx, "psubscribe", patterns)
}

func (t *Transport) subscribe(ctx context.Context, mode string, names []string) (transport.Subscription, error) {
	if t.closed.Load() {
		return nil, transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, transport.Invalid(transport.ErrInvalidChannel, "redis: %s needs at least one channel", mode)
	}
	seen := make(map[string]bool, len(names))
	var uniq []string
	for _, n := range names {
		if err := validChannel(n); err != nil {
			return nil, err
		}
		if !seen[n] {
			seen[n] = true
			uniq = append(uniq, n)
		}
	}
	if err := t.downErr(); err != nil {
		return nil, err
	}
	groups := [][]string{uniq}
	if t.cluster && mode == "ssubscribe" {
		// On a cluster one SSUBSCRIBE may only name channels of one slot.
		groups = bySlot(uniq)
	}
	s := &subscription{t: t, done: make(chan struct{})}
	for _, g := range groups {
		ps, pending, err := t.openPubSub(ctx, mode, g)
		if err != nil {
			for _, p := range s.pss {
				_ = p.Close()
			}
			return nil, err
		}
		s.pss = append(s.pss, ps)
		s.pending = append(s.pending, pending...)
	}
	s.start(t.cfg.SubscriptionBuffer)
	t.smu.Lock()
	if t.closed.Load() {
		t.smu.Unlock()
		s.shutdown()
		return nil, transport.ErrClosed
	}
	t.subs[s] = struct{}{}
	t.smu.Unlock()
	return s, nil
}

// openPubSub subscribes one group and waits for its confirmations; messages
// that arrive meanwhile are returned as pending.
func (t *Transport) openPubSub(ctx context.Context, mode string, names []string) (*goredis.PubSub, []*goredis.Message, error) {
	var ps *goredis.PubSub
	var err error
	switch mode {
	case "psubscribe":
		ps = t.client.PSubscribe(ctx)
		err = ps.PSubscribe(ctx, names...)
	case "ssubscribe":
		ps = t.client.SSubscribe(ctx)
		err = ps.SSubscribe(ctx, names...)
	default:
		ps = t.client.Subscribe(ctx)
		err = ps.Subscribe(ctx, names...)
	}
	fail := func(err error) (*goredis.PubSub, []*goredis.Message, error) {
		_ = ps.Close()
		quoted := make([]string, len(names))
		for i, n := range names {
			quoted[i] = transport.QuoteChannel(n) // a huge name is cut
		}
		return nil, nil, t.mapErrOp(ctx, err, strings.ToUpper(mode)+" "+strings.Join(quoted, " "))
	}
	if err != nil {
		return fail(err)
	}
	deadline := time.Now().Add(t.cfg.DialTimeout + t.cfg.ReadTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	var pending []*goredis.Message
	for need := len(names); need > 0; {
		wait := time.Until(deadline)
		if wait <= 0 {
			if ctx.Err() != nil {
				return fail(ctx.Err())
			}
			return fail(fmt.Errorf("no %s confirmation within %v", mode, t.cfg.DialTimeout+t.cfg.ReadTimeout))
		}
		msg, err := ps.ReceiveTimeout(ctx, wait)
		if err != nil {
			return fail(err)
		}
		switch m := msg.(type) {
		case *goredis.Subscription:
			if m.Kind == mode {
				need--
			}
		case *goredis.Message:
			pending = append(pending, m)
		}
	}
	return ps, pending, nil
}

// subscription delivers the messages of one or more go-redis PubSubs.
type subscription struct {
	t       *Transport
	pss     []*goredis.PubSub
	ch      <-chan *goredis.Message
	done    chan struct{}
	closed  atomic.Bool
	once    sync.Once
	wg      sync.WaitGroup
	mu      sync.Mutex
	pending []*goredis.Message
}

// start begins reading: one PubSub is read directly, several are merged.
func (s *subscription) start(buf int) {
	// A full buffer makes the reader wait rather than drop after go-redis's
	// default minute.
	opts := []goredis.ChannelOption{goredis.WithChannelSize(buf), goredis.WithChannelSendTimeout(24 * time.Hour)}
	if len(s.pss) == 1 {
		s.ch = s.pss[0].Channel(opts...)
		return
	}
	out := make(chan *goredis.Message, buf)
	s.ch = out
	for _, ps := range s.pss {
		in := ps.Channel(opts...)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			for m := range in { // ends when the PubSub closes
				select {
				case out <- m:
				case <-s.done:
				}
			}
		}()
	}
}

// Next returns the next message, ctx.Err() when ctx ends, or
// transport.ErrClosed once the subscription or its transport is closed.
func (s *subscription) Next(ctx context.Context) (transport.Message, error) {
	if s.closed.Load() {
		return transport.Message{}, transport.ErrClosed
	}
	s.mu.Lock()
	if len(s.pending) > 0 {
		m := s.pending[0]
		s.pending = s.pending[1:]
		s.mu.Unlock()
		return convert(m), nil
	}
	s.mu.Unlock()
	select {
	case m, ok := <-s.ch:
		if !ok || s.closed.Load() {
			return transport.Message{}, transport.ErrClosed
		}
		return convert(m), nil
	case <-ctx.Done():
		return transport.Message{}, ctx.Err()
	case <-s.done:
		return transport.Message{}, transport.ErrClosed
	}
}

func convert(m *goredis.Message) transport.Message {
	return transport.Message{Channel: m.Channel, Payload: []byte(m.Payload)}
}

// Close stops delivery and releases the connections. It is idempotent.
func (s *subscription) Close() error {
	s.shutdown()
	s.t.smu.Lock()
	delete(s.t.subs, s)
	s.t.smu.Unlock()
	return nil
}

func (s *subscription) shutdown() {
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.done)
		for _, ps := range s.pss {
			_ = ps.Close()
		}
		if len(s.pss) == 1 {
			// Unblock go-redis's reader so it sees the close and ends.
			for range s.ch {
			}
		}
		s.wg.Wait()
	})
}
