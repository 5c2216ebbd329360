package kafka

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/eventpub/eventpub/transport"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Subscribe starts a consumer of the channels' topics (created when
// missing, unless RequireTopics) on a franz-go client of its own. Without
// a Group it starts at each partition's end as it is when Subscribe
// returns (FromEnd) or replays the topics (FromStart); with a Group it
// resumes after the group's last committed message. While no broker
// answers it fails with ErrUnavailable.
func (t *Transport) Subscribe(ctx context.Context, channels ...string) (transport.Subscription, error) {
	if t.closed.Load() {
		return nil, transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(channels) == 0 {
		return nil, errors.New("eventpub/kafka: Subscribe needs at least one channel")
	}
	byTopic := make(map[string]string, len(channels))
	topics := make([]string, 0, len(channels))
	for _, ch := range channels {
		topic, err := TopicFor(t.cfg.Mapping, ch)
		if err != nil {
			return nil, err
		}
		if _, dup := byTopic[topic]; !dup {
			topics = append(topics, topic)
		}
		byTopic[topic] = ch
	}
	if !t.isUp() {
		t.suspect()
		return nil, t.downErr()
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	for _, topic := range topics {
		if err := t.ensureTopic(ctx, topic, byTopic[topic]); err != nil {
			return nil, err
		}
	}
	opts := t.cfg.clientOptions()
	switch {
	case t.cfg.Group != "":
		reset := kgo.NewOffset().AtEnd()
		if t.cfg.From == FromStart {
			reset = kgo.NewOffset().AtStart()
		}
		opts = append(opts, kgo.ConsumerGroup(t.cfg.Group), kgo.ConsumeTopics(topics...),
			kgo.ConsumeResetOffset(reset), kgo.AutoCommitMarks())
	case t.cfg.From == FromStart:
		opts = append(opts, kgo.ConsumeTopics(topics...), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	default:
		// Fix the end offsets now, so a message published once Subscribe
		// has returned is delivered.
		ends, err := t.endOffsets(ctx, topics)
		if err != nil {
			t.suspect()
			return nil, t.classify(ctx, err)
		}
		parts := make(map[string]map[int32]kgo.Offset, len(topics))
		ends.Each(func(o kadm.ListedOffset) {
			if parts[o.Topic] == nil {
				parts[o.Topic] = map[int32]kgo.Offset{}
			}
			parts[o.Topic][o.Partition] = kgo.NewOffset().At(o.Offset)
		})
		opts = append(opts, kgo.ConsumePartitions(parts))
	}
	clCtx, clCancel := context.WithCancel(context.Background())
	opts = append(opts, kgo.WithContext(clCtx))
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		clCancel()
		return nil, t.classify(ctx, err)
	}
	s := &subscription{t: t, cl: cl, clCancel: clCancel, byTopic: byTopic, group: t.cfg.Group != "",
		ch: make(chan *kgo.Record, t.cfg.SubscriptionBuffer), done: make(chan struct{})}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if !t.track(s) {
		s.cancel()
		closeClient(ctx, cl, clCancel)
		return nil, transport.ErrClosed
	}
	s.wg.Add(1)
	go s.run()
	return s, nil
}

// endOffsets lists the topics' end offsets. A topic created a moment ago
// can be unknown to the broker asked, or to franz-go's metadata cache, for
// a moment: that is retried until ctx ends.
func (t *Transport) endOffsets(ctx context.Context, topics []string) (kadm.ListedOffsets, error) {
	for {
		ends, err := t.adm.ListEndOffsets(ctx, topics...)
		if err == nil {
			err = ends.Error()
		}
		if err == nil || !errors.Is(err, kerr.UnknownTopicOrPartition) {
			return ends, err
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// subscription is one consumer client feeding Next.
type subscription struct {
	t        *Transport
	cl       *kgo.Client
	clCancel context.CancelFunc // ends cl's context: see closeClient
	byTopic  map[string]string  // topic → channel
	group    bool

	ctx    context.Context // ends on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup
	ch     chan *kgo.Record
	done   chan struct{} // closed by Close

	closeOnce sync.Once
	authMu    sync.Mutex
	authErr   error // an ACL refused the topic: Next reports it
}

// run polls the consumer and hands records to Next until Close.
func (s *subscription) run() {
	defer s.wg.Done()
	for {
		fetches := s.cl.PollFetches(s.ctx)
		if s.ctx.Err() != nil || fetches.IsClientClosed() {
			return
		}
		fetches.EachError(func(_ string, _ int32, err error) {
			if isAuthErr(err) {
				s.authMu.Lock()
				s.authErr = &authError{msg: ErrAuth.Error() + ": " + s.t.cfg.scrub(err).Error(), cause: err}
				s.authMu.Unlock()
			}
		})
		for it := fetches.RecordIter(); !it.Done(); {
			select {
			case s.ch <- it.Next():
			case <-s.ctx.Done():
				return
			}
		}
	}
}

// Next returns the next message, blocking until one arrives, ctx ends
// (ctx.Err()) or the subscription or its transport closes (ErrClosed).
// With a Group, the message counts as handled for the group's next commit.
func (s *subscription) Next(ctx context.Context) (transport.Message, error) {
	select {
	case <-s.done:
		return transport.Message{}, transport.ErrClosed
	default:
	}
	if err := ctx.Err(); err != nil {
		return transport.Message{}, err
	}
	select {
	case r := <-s.ch:
		if s.group {
			s.cl.MarkCommitRecords(r)
		}
		return s.message(r), nil
	default:
	}
	s.authMu.Lock()
	authErr := s.authErr
	s.authErr = nil
	s.authMu.Unlock()
	if authErr != nil {
		return transport.Message{}, authErr
	}
	select {
	case r := <-s.ch:
		if s.group {
			s.cl.MarkCommitRecords(r)
		}
		return s.message(r), nil
	case <-ctx.Done():
		return transport.Message{}, ctx.Err()
	case <-s.done:
		return transport.Message{}, transport.ErrClosed
	}
}

func (s *subscription) message(r *kgo.Record) transport.Message {
	m := transport.Message{Channel: s.byTopic[r.Topic], Payload: r.Value}
	if m.Payload == nil {
		m.Payload = []byte{}
	}
	if len(r.Headers) > 0 {
		m.Header = make(map[string]string, len(r.Headers))
		for _, h := range r.Headers {
			m.Header[h.Key] = string(h.Value)
		}
	}
	return m
}

// Close stops the consumer; with a Group it first commits what Next
// handed out. Its waits (committing, leaving the group, the client's
// shutdown) are bounded by ConnectTimeout, so Close does not wait out an
// outage. It is idempotent.
func (s *subscription) Close() error {
	s.closeContext(context.Background())
	return nil
}

// closeContext is Close with its waits also ended by ctx (the transport's
// CloseContext).
func (s *subscription) closeContext(ctx context.Context) {
	s.closeOnce.Do(func() {
		close(s.done)
		s.cancel()
		s.wg.Wait()
		ctx, cancel := context.WithTimeout(ctx, s.t.cfg.ConnectTimeout)
		defer cancel()
		if s.group && ctx.Err() == nil {
			_ = s.cl.CommitMarkedOffsets(ctx)
			_ = s.cl.LeaveGroupContext(ctx)
		}
		closeClient(ctx, s.cl, s.clCancel)
		s.t.untrack(s)
	})
}
