package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/transport"
)

// errDown is the cause wrapped in transport.ErrUnavailable while a broker is down.
var errDown = errors.New("memory: broker is down (Broker.SetDown)")

// errSlowSubscriber is why a message was dropped under Overflow Drop.
var errSlowSubscriber = errors.New("memory: a subscriber's buffer is full (Overflow Drop)")

// Broker is an in-process message broker. Transports connected to the same
// Broker see each other's messages. It is safe for concurrent use.
type Broker struct {
	cfg     config
	down    atomic.Bool
	dropped observe.Counters // counts only drops
	obs     observe.Observer // WithObserver's, or nil

	mu       sync.Mutex
	exact    map[string][]*Subscription // channel → subscriptions on it
	patterns []*Subscription            // pattern subscriptions
	history  map[string]*ring           // channel → last cfg.history messages
	seq      uint64                     // publish sequence, orders history across channels
	taps     []*Recorder
}

// NewBroker returns an empty broker configured by opts.
func NewBroker(opts ...Option) *Broker {
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	return newBroker(cfg)
}

func newBroker(cfg config) *Broker {
	return &Broker{cfg: cfg, obs: observe.Multi(cfg.observers...), exact: map[string][]*Subscription{}, history: map[string]*ring{}}
}

// New returns a transport on a new private broker: NewBroker(opts...).Connect().
func New(opts ...Option) *Transport { return NewBroker(opts...).Connect() }

// Connect returns a new transport on b. Closing it ends only its own
// subscriptions; the broker and its other transports go on.
func (b *Broker) Connect() *Transport {
	return &Transport{b: b, done: make(chan struct{}), subs: map[*Subscription]struct{}{}}
}

// SetDown simulates an outage. While down, Publish, PublishBatch, Subscribe
// and Ping fail at once with transport.ErrUnavailable; existing subscriptions
// stay open and receive again once SetDown(false) is called.
// Observers hear the link go down and up.
func (b *Broker) SetDown(down bool) {
	if b.down.Swap(down) != down && b.obs != nil {
		var err error
		if down {
			err = transport.Unavailable(errDown)
		}
		b.obs.Link(system, !down, err)
	}
}

// Dropped counts the messages this broker dropped for slow subscribers, over
// all its transports (see Overflow).
func (b *Broker) Dropped() uint64 { return b.dropped.Snapshot().Dropped }

// pending is a message still owed to a subscription whose buffer was full.
type pending struct {
	s *Subscription
	m transport.Message
}

// cloneMsg returns msg with its own payload and header.
func cloneMsg(msg transport.Message) transport.Message {
	return transport.Message{Channel: msg.Channel, Payload: bytes.Clone(msg.Payload), Header: maps.Clone(msg.Header)}
}

// route delivers msg (already validated) to every sink. Subscriptions with
// room get it at once; under Block the publisher then waits for the full
// ones, up to ctx or the close of its transport (stop).
func (b *Broker) route(ctx context.Context, stop <-chan struct{}, msg transport.Message) error {
	var stack [4]pending
	waits := stack[:0]
	deliver := func(s *Subscription) {
		m := cloneMsg(msg)
		select {
		case s.ch <- m:
		default:
			if b.cfg.overflow == Drop {
				s.drop(msg.Channel, errSlowSubscriber)
			} else {
				waits = append(waits, pending{s, m})
			}
		}
	}

	b.mu.Lock()
	if b.cfg.history > 0 || len(b.taps) > 0 {
		stored := cloneMsg(msg) // shared by history and recorders, which never hand it out
		b.seq++
		if b.cfg.history > 0 {
			r := b.history[msg.Channel]
			if r == nil {
				r = &ring{size: b.cfg.history}
				b.history[msg.Channel] = r
			}
			r.push(entry{seq: b.seq, msg: stored})
		}
		for _, r := range b.taps {
			r.record(stored)
		}
	}
	for _, s := range b.exact[msg.Channel] {
		deliver(s)
	}
	for _, s := range b.patterns {
		if s.matches(msg.Channel) {
			deliver(s)
		}
	}
	b.mu.Unlock()

	for i, p := range waits {
		var cause error
		select {
		case p.s.ch <- p.m:
			continue
		case <-p.s.done:
			continue
		case <-ctx.Done():
			cause = ctx.Err()
		case <-stop:
			cause = transport.ErrClosed
		}
		lost := 0
		for _, q := range waits[i:] {
			select {
			case q.s.ch <- q.m:
			default:
				q.s.drop(msg.Channel, cause)
				lost++
			}
		}
		if lost == 0 {
			return nil
		}
		return fmt.Errorf("memory: publish on %q: %w; the message reached the other subscribers but was dropped for %d whose buffer stayed full",
			msg.Channel, cause, lost)
	}
	return nil
}

// register adds s to the routing tables and queues the history of its
// channels for replay, atomically with respect to publishing.
func (b *Broker) register(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.isClosed() {
		return
	}
	if s.patterns != nil {
		b.patterns = append(b.patterns, s)
	} else {
		for _, ch := range s.channels {
			b.exact[ch] = append(b.exact[ch], s)
		}
	}
	if b.cfg.history == 0 {
		return
	}
	var old []entry
	if s.patterns != nil {
		for ch, r := range b.history {
			if s.matches(ch) {
				old = r.appendTo(old)
			}
		}
	} else {
		for _, ch := range s.channels {
			if r := b.history[ch]; r != nil {
				old = r.appendTo(old)
			}
		}
	}
	if len(old) == 0 {
		return
	}
	slices.SortFunc(old, func(x, y entry) int { return compareSeq(x.seq, y.seq) })
	replay := make([]transport.Message, len(old))
	for i, e := range old {
		replay[i] = cloneMsg(e.msg)
	}
	s.setReplay(replay)
}

func compareSeq(x, y uint64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}

// unregister removes s from the routing tables.
func (b *Broker) unregister(s *Subscription) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s.patterns != nil {
		b.patterns = slices.DeleteFunc(b.patterns, func(x *Subscription) bool { return x == s })
		return
	}
	for _, ch := range s.channels {
		list := slices.DeleteFunc(b.exact[ch], func(x *Subscription) bool { return x == s })
		if len(list) == 0 {
			delete(b.exact, ch)
		} else {
			b.exact[ch] = list
		}
	}
}

func (b *Broker) addTap(r *Recorder) {
	b.mu.Lock()
	b.taps = append(b.taps, r)
	b.mu.Unlock()
}

func (b *Broker) removeTap(r *Recorder) {
	b.mu.Lock()
	b.taps = slices.DeleteFunc(b.taps, func(x *Recorder) bool { return x == r })
	b.mu.Unlock()
}

// entry is one kept message and its place in the broker's publish order.
type entry struct {
	seq uint64
	msg transport.Message
}

// ring keeps the last size entries of one channel.
type ring struct {
	size  int
	buf   []entry
	start int // index of the oldest entry once buf is full
}

func (r *ring) push(e entry) {
	if len(r.buf) < r.size {
		r.buf = append(r.buf, e)
		return
	}
	r.buf[r.start] = e
	r.start = (r.start + 1) % r.size
}

// appendTo appends the kept entries to dst, oldest first.
func (r *ring) appendTo(dst []entry) []entry {
	dst = append(dst, r.buf[r.start:]...)
	return append(dst, r.buf[:r.start]...)
}
