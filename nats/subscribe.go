package nats

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Subscribe delivers the given channels. Core mode: messages published while
// the subscriber is connected, at most once; nats.go re-subscribes after a
// reconnect. JetStream mode: an ordered consumer per channel starting where
// JetStreamConfig.Start says (replaying what is stored by default); after a
// reconnect it resumes after the last message it delivered.
func (t *Transport) Subscribe(ctx context.Context, channels ...string) (transport.Subscription, error) {
	return t.subscribe(ctx, t.defaultStart(), false, channels)
}

// SubscribeFrom is Subscribe with an explicit start in JetStream mode:
// StartAll replays every message the stream still holds, then new ones;
// StartNew delivers only new ones. Core mode stores nothing, so only
// StartNew works there; StartAll gives an error.
func (t *Transport) SubscribeFrom(ctx context.Context, start Start, channels ...string) (transport.Subscription, error) {
	if start != StartNew && start != StartAll {
		return nil, errors.New("eventpub/nats: unknown Start value")
	}
	if t.js == nil && start != StartNew {
		return nil, errors.New("eventpub/nats: core NATS stores nothing to replay; use JetStream mode")
	}
	return t.subscribe(ctx, start, false, channels)
}

// SubscribePattern delivers every channel whose subject matches a NATS
// pattern ("codeworm.*", "codeworm.>"); with ColonToDot, ':' in a pattern
// is read as '.'. Each Message carries the channel it was published on.
func (t *Transport) SubscribePattern(ctx context.Context, patterns ...string) (transport.Subscription, error) {
	return t.subscribe(ctx, t.defaultStart(), true, patterns)
}

func (t *Transport) defaultStart() Start {
	if t.js != nil {
		return t.cfg.JetStream.Start
	}
	return StartNew
}

type subscription struct {
	t     *Transport
	ch    chan transport.Message
	done  chan struct{}
	once  sync.Once
	names map[string]string // subject → channel, for exact subscriptions

	core []*natsgo.Subscription
	cons []jetstream.ConsumeContext
}

func (t *Transport) subscribe(ctx context.Context, start Start, wild bool, names []string) (transport.Subscription, error) {
	if t.closed.Load() {
		return nil, transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, transport.Invalid(transport.ErrInvalidChannel, "Subscribe needs at least one channel")
	}
	s := &subscription{
		t:     t,
		ch:    make(chan transport.Message, t.cfg.SubscriptionBuffer),
		done:  make(chan struct{}),
		names: make(map[string]string, len(names)),
	}
	subjects := make([]string, 0, len(names))
	for _, name := range names {
		var subj string
		var err error
		if wild {
			subj, err = t.pattern(name)
		} else {
			subj, err = t.subject(name)
			s.names[subj] = name
		}
		if err != nil {
			return nil, err
		}
		if !slices.Contains(subjects, subj) {
			subjects = append(subjects, subj)
		}
	}
	if !t.connected() {
		return nil, t.downErr()
	}
	before := t.nc.LastError()
	var err error
	if t.js != nil {
		err = s.startJS(ctx, start, subjects)
		if err != nil && ctx.Err() == nil {
			if pe := t.permissionErr(before, "publish", "$JS.API.>"); pe != nil {
				err = pe
			}
		}
	} else {
		err = s.startCore(ctx, before, subjects)
	}
	if err != nil {
		_ = s.Close()
		return nil, err
	}
	if !t.track(s) {
		_ = s.Close()
		return nil, transport.ErrClosed
	}
	return s, nil
}

func (s *subscription) startCore(ctx context.Context, before error, subjects []string) error {
	for _, subj := range subjects {
		sub, err := s.t.nc.Subscribe(subj, s.deliverCore)
		if err != nil {
			return s.t.classify(ctx, err)
		}
		s.core = append(s.core, sub)
	}
	// One round trip: the server has every SUB before Subscribe returns,
	// and has refused any it does not permit.
	if err := s.t.flush(ctx); err != nil {
		return s.t.classify(ctx, err)
	}
	return s.t.permissionErr(before, "subscription", subjects...)
}

func (s *subscription) deliverCore(m *natsgo.Msg) {
	s.deliver(transport.Message{Channel: s.channel(m.Subject), Payload: m.Data, Header: fromNATSHeader(m.Header)})
}

func (s *subscription) startJS(ctx context.Context, start Start, subjects []string) error {
	policy := jetstream.DeliverNewPolicy
	if start == StartAll {
		policy = jetstream.DeliverAllPolicy
	}
	for _, subj := range subjects {
		stream, err := s.t.streamFor(ctx, subj)
		if err != nil {
			return err
		}
		cons, err := s.t.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
			FilterSubjects: []string{subj},
			DeliverPolicy:  policy,
		})
		if err != nil {
			return s.t.classify(ctx, err)
		}
		cc, err := cons.Consume(s.deliverJS)
		if err != nil {
			return s.t.classify(ctx, err)
		}
		s.cons = append(s.cons, cc)
	}
	return nil
}

func (s *subscription) deliverJS(m jetstream.Msg) {
	s.deliver(transport.Message{Channel: s.channel(m.Subject()), Payload: m.Data(), Header: fromNATSHeader(m.Headers())})
}

// deliver hands m to Next, waiting while the buffer is full (core mode:
// nats.go then holds and, past its own limits, drops; JetStream: delivery
// pauses) until the subscription closes.
func (s *subscription) deliver(m transport.Message) {
	select {
	case s.ch <- m:
	case <-s.done:
	}
}

func (s *subscription) channel(subj string) string {
	if name, ok := s.names[subj]; ok {
		return name
	}
	return s.t.channel(subj)
}

// Next returns the next message, ErrClosed once the subscription or its
// transport is closed, or ctx.Err().
func (s *subscription) Next(ctx context.Context) (transport.Message, error) {
	select {
	case <-s.done:
		return transport.Message{}, transport.ErrClosed
	default:
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

// Close stops delivery and waits until no message is being handed over.
func (s *subscription) Close() error {
	s.close(true)
	return nil
}

// close stops delivery. A JetStream consumer stops at once while
// connected. While the connection is down, nats.go's ordered consumer can
// hold its lock in a reset until a request times out, so Stop runs on its
// own goroutine, which the Transport tracks; with wait, close waits for it
// up to PublishTimeout while connected. The Transport's Close waits for
// the rest.
func (s *subscription) close(wait bool) {
	s.once.Do(func() {
		close(s.done)
		for _, sub := range s.core {
			_ = sub.Unsubscribe()
		}
		if len(s.cons) > 0 {
			stopped := s.t.startStopping()
			go func() {
				defer s.t.doneStopping(stopped)
				for _, cc := range s.cons {
					cc.Stop()
					<-cc.Closed()
				}
			}()
			if wait && s.t.nc.Status() == natsgo.CONNECTED {
				timer := time.NewTimer(s.t.cfg.PublishTimeout)
				select {
				case <-stopped:
				case <-timer.C:
				}
				timer.Stop()
			}
		}
		s.t.untrack(s)
	})
}
