package memory

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/transport"
)

// Subscription is a memory transport's transport.Subscription. Type-assert
// the value Subscribe returns to reach Dropped.
type Subscription struct {
	t        *Transport
	ch       chan transport.Message
	done     chan struct{} // closed by Close
	once     sync.Once
	channels []string // sorted, for an exact subscription
	patterns []string // sorted, for a pattern subscription
	dropped  atomic.Uint64

	hasReplay atomic.Bool
	mu        sync.Mutex
	replay    []transport.Message // history owed before live messages
}

// Dropped counts the messages dropped for this subscription because its
// buffer was full.
func (s *Subscription) Dropped() uint64 { return s.dropped.Load() }

// drop counts a message on channel dropped for s, and tells the broker's
// observers why.
func (s *Subscription) drop(channel string, why error) {
	s.dropped.Add(1)
	b := s.t.b
	o := observe.Outcome{Channel: channel, System: system, Count: 1, Err: why}
	b.dropped.Dropped(o)
	if b.obs != nil {
		b.obs.Dropped(o)
	}
}

func (s *Subscription) isClosed() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

func (s *Subscription) setReplay(msgs []transport.Message) {
	s.mu.Lock()
	s.replay = msgs
	s.hasReplay.Store(true)
	s.mu.Unlock()
}

func (s *Subscription) matches(channel string) bool {
	for _, p := range s.patterns {
		if globMatch(p, channel) {
			return true
		}
	}
	return false
}

// Next returns the next message, in publish order for each publisher. It
// returns transport.ErrClosed once the subscription or its transport is
// closed, and ctx.Err() when ctx ends first.
func (s *Subscription) Next(ctx context.Context) (transport.Message, error) {
	if s.isClosed() {
		return transport.Message{}, transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return transport.Message{}, err
	}
	if s.hasReplay.Load() {
		s.mu.Lock()
		if len(s.replay) > 0 {
			m := s.replay[0]
			s.replay[0] = transport.Message{}
			s.replay = s.replay[1:]
			if len(s.replay) == 0 {
				s.replay = nil
				s.hasReplay.Store(false)
			}
			s.mu.Unlock()
			return m, nil
		}
		s.mu.Unlock()
	}
	select {
	case m := <-s.ch:
		return m, nil
	case <-s.done:
		return transport.Message{}, transport.ErrClosed
	case <-ctx.Done():
		return transport.Message{}, ctx.Err()
	}
}

// Close stops delivery; Next then returns transport.ErrClosed. It is
// idempotent and always returns nil.
func (s *Subscription) Close() error {
	s.once.Do(func() {
		close(s.done)
		s.t.b.unregister(s)
		s.t.forget(s)
		s.mu.Lock()
		s.replay = nil
		s.mu.Unlock()
	})
	return nil
}
