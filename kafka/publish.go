package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub/transport"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Framing a record batch of one record costs at most this much besides the
// record's key, value and headers: the batch header, then the record's
// length, attributes, timestamp and offset deltas, key, value and header
// count lengths (varints at their widest).
// downGrace is how long a Publish waits for its record's fate once the
// cluster is found down, half the ConnectTimeout: a record franz-go had not
// sent fails at once; one already sent is resolved only when a broker
// answers again, which after a short outage (a broker restart) comes
// within this.
func (t *Transport) downGrace() time.Duration { return t.cfg.ConnectTimeout / 2 }

const (
	batchOverhead  = 61
	recordOverhead = 5 + 1 + 10 + 5 + 5 + 5 + 5
	headerOverhead = 10 // key and value length varints
)

// builder makes records, sharing between consecutive messages of a batch
// what they share: the channel's topic and key, and one allocation for the
// payload copies.
type builder struct {
	t              *Transport
	channel, topic string
	key            []byte
	arena          []byte // payload copies: franz-go may hold a record after Publish returns
}

// build fills r, a zero record, for msg, or says why msg cannot be sent. topicChanged
// reports a topic other than the previous message's.
func (b *builder) build(msg transport.Message, r *kgo.Record) (topicChanged bool, err error) {
	if b.topic == "" || msg.Channel != b.channel {
		m, err := b.t.topics.mapped(b.t.cfg.Mapping, msg.Channel)
		if err != nil {
			return false, err
		}
		topicChanged = m.topic != b.topic
		b.channel, b.topic, b.key = msg.Channel, m.topic, m.key
	}
	size := batchOverhead + recordOverhead + len(msg.Channel) + len(msg.Payload)
	for k, v := range msg.Header {
		size += headerOverhead + len(k) + len(v)
	}
	if limit := int(b.t.cfg.MaxRecordBatchBytes); len(msg.Payload) > b.t.maxPayload() || size > limit {
		return false, transport.Invalid(transport.ErrPayloadTooLarge,
			"message of %d bytes (payload %d) on channel %s is over the %d-byte record batch limit (MaxPayload %d without headers)",
			size, len(msg.Payload), transport.QuoteChannel(msg.Channel), limit, b.t.maxPayload())
	}
	if cap(b.arena)-len(b.arena) < len(msg.Payload) {
		b.arena = make([]byte, 0, len(msg.Payload))
	}
	at := len(b.arena)
	b.arena = append(b.arena, msg.Payload...)
	// r is zero: set only these fields (a whole-struct store would pay
	// write barriers for each of its pointer fields).
	r.Topic, r.Key, r.Value = b.topic, b.key, b.arena[at:len(b.arena):len(b.arena)]
	if len(msg.Header) > 0 {
		r.Headers = make([]kgo.RecordHeader, 0, len(msg.Header))
		for k, v := range msg.Header {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
	}
	return topicChanged, nil
}

// call is one Publish's record and what it waits on, reused once its
// promise has come (a Publish that returns before keeps its call out of
// the pool: franz-go still holds the record).
type call struct {
	r       kgo.Record
	done    chan error
	promise func(*kgo.Record, error)
	timer   *time.Timer // PublishTimeout, for contexts without a deadline
}

var calls = sync.Pool{New: func() any {
	c := &call{done: make(chan error, 1)}
	c.promise = func(_ *kgo.Record, err error) { c.done <- err }
	return c
}}

// Publish sends msg and returns once every in-sync replica has it (acks=all,
// idempotent producer), or with ErrUnavailable at once while no broker
// answers. When ctx (or PublishTimeout, when ctx has no deadline) ends
// first, the message may still be delivered later: the error matches
// transport.ErrUnknownOutcome (and ctx.Err() when ctx ended).
func (t *Transport) Publish(ctx context.Context, msg transport.Message) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c := calls.Get().(*call)
	c.r = kgo.Record{} // franz-go filled in offsets and such last time
	bld := builder{t: t}
	if _, err := bld.build(msg, &c.r); err != nil {
		calls.Put(c)
		return err
	}
	if !t.isUp() {
		calls.Put(c)
		t.suspect()
		return t.downErr()
	}
	if _, known := t.topics.known.Load(c.r.Topic); !known {
		bctx, cancel := t.bound(ctx)
		err := t.ensureTopic(bctx, c.r.Topic, msg.Channel)
		cancel()
		if err != nil {
			calls.Put(c)
			return err
		}
	}
	var timeout <-chan time.Time
	if _, ok := ctx.Deadline(); !ok {
		if c.timer == nil {
			c.timer = time.NewTimer(t.cfg.PublishTimeout)
		} else {
			c.timer.Reset(t.cfg.PublishTimeout)
		}
		timeout = c.timer.C
	}
	ls := t.state.Load()
	t.cl.TryProduce(ls.ctx, &c.r, c.promise)
	select {
	case err := <-c.done:
		if c.timer != nil {
			c.timer.Stop()
		}
		calls.Put(c)
		return t.produced(ctx, err)
	case <-ctx.Done():
		t.suspect()
		return transport.UnknownOutcome(ctx.Err())
	case <-timeout:
		t.suspect()
		return transport.UnknownOutcome(fmt.Errorf("eventpub/kafka: no acknowledgement within PublishTimeout (%v): %w", t.cfg.PublishTimeout, context.DeadlineExceeded))
	case <-ls.down:
		if c.timer != nil {
			c.timer.Stop()
		}
		// franz-go fails at once the records it can (not yet sent). A
		// record already sent waits for an answer: give it downGrace,
		// then report the outage (it may still be delivered, once).
		grace := time.NewTimer(t.downGrace())
		defer grace.Stop()
		select {
		case err := <-c.done:
			calls.Put(c)
			return t.produced(ctx, err)
		case <-ctx.Done():
			return transport.UnknownOutcome(ctx.Err())
		case <-grace.C:
			return transport.UnknownOutcome(errDown)
		}
	}
}

// produced classifies a produce result and starts a check of the cluster
// when it looks like an outage.
func (t *Transport) produced(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	cerr := t.produceErr(ctx, err)
	if errors.Is(cerr, transport.ErrUnavailable) {
		t.suspect()
	}
	return cerr
}

// produceErr classifies the error a record's promise gave. An outage
// that franz-go reports after it may have sent the record (a timeout,
// retries used up, a connection lost) leaves its fate unknown:
// transport.ErrUnknownOutcome. A record failed by the driver's own
// cancellation (the cluster found down) or refused for a full buffer
// was not sent: plain ErrUnavailable.
func (t *Transport) produceErr(ctx context.Context, err error) error {
	cerr := t.classify(ctx, err)
	switch {
	case errors.Is(cerr, transport.ErrUnknownOutcome), !errors.Is(cerr, transport.ErrUnavailable),
		errors.Is(err, context.Canceled), errors.Is(err, kgo.ErrMaxBuffered):
		return cerr
	}
	return transport.UnknownOutcome(cerr)
}

// PublishBatch hands every message to franz-go's batching producer, then
// waits for each one's acknowledgement: one round trip per record batch
// rather than per message. Messages are produced in order. It fails with a
// *transport.BatchError whose Results give each message's fate: a message
// refused before sending (invalid channel, too large) fails alone, and the
// others go. A message sent when the cluster goes down keeps its batch
// waiting for its verdict until ctx ends, so that it is not reported lost
// and then delivered (see the package doc).
func (t *Transport) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !t.isUp() {
		t.suspect()
		return &transport.BatchError{Err: t.downErr()}
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	b := &batch{out: make([]error, len(msgs)), sent: make([]bool, len(msgs)), done: make(chan struct{})}
	recs := make([]kgo.Record, len(msgs))
	total := 0
	for _, m := range msgs {
		total += len(m.Payload)
	}
	bld := builder{t: t, arena: make([]byte, 0, total)}
	pctx := t.state.Load().ctx
	// Each record goes to franz-go as soon as it is built, so the first
	// request can leave while the rest are still being built.
	for i, m := range msgs {
		changed, err := bld.build(m, &recs[i])
		if err == nil && changed {
			if err = t.ensureTopic(ctx, recs[i].Topic, m.Channel); err != nil {
				bld.topic = "" // check again for the next message
			}
		}
		if err != nil {
			b.out[i] = err
			continue
		}
		b.sent[i] = true // before TryProduce, which orders it before the promise
		b.left.Add(1)
		t.cl.TryProduce(pctx, &recs[i], func(_ *kgo.Record, err error) { b.result(i, err) })
	}
	b.all.Store(true)
	if b.left.Load() == 0 {
		b.finish()
	}
	var waitErr error
	select {
	case <-b.done:
	case <-ctx.Done():
		waitErr = ctx.Err()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return t.batchErr(ctx, b, waitErr)
}

// batch follows the promises of one PublishBatch.
type batch struct {
	mu   sync.Mutex
	out  []error      // each message's fate (nil: sent, once its promise came)
	sent []bool       // produced: out waits for the promise
	left atomic.Int64 // promises still to come
	all  atomic.Bool  // every record has been handed to franz-go
	once sync.Once
	done chan struct{} // closed once all and no promise is left
}

func (b *batch) result(i int, err error) {
	b.mu.Lock()
	b.out[i], b.sent[i] = err, false
	b.mu.Unlock()
	if b.left.Add(-1) == 0 && b.all.Load() {
		b.finish()
	}
}

func (b *batch) finish() { b.once.Do(func() { close(b.done) }) }

// batchErr builds the BatchError for b (held locked); nil when every
// message went through. waitErr, when the wait ended early, is the fate of
// each message still waiting for its promise: it may yet arrive.
func (t *Transport) batchErr(ctx context.Context, b *batch, waitErr error) error {
	out := make([]error, len(b.out))
	var first error
	sent, outage := 0, false
	for i, err := range b.out {
		switch {
		case b.sent[i]:
			out[i] = transport.UnknownOutcome(waitErr)
		case err != nil:
			out[i] = t.produceErr(ctx, err)
		}
		if out[i] == nil && first == nil {
			sent++
			continue
		}
		if out[i] != nil {
			outage = outage || errors.Is(out[i], transport.ErrUnavailable) || errors.Is(out[i], context.DeadlineExceeded)
			if first == nil {
				first = out[i]
			}
		}
	}
	if outage {
		t.suspect()
	}
	if first == nil {
		return nil
	}
	return &transport.BatchError{Sent: sent, Results: out, Err: first}
}

// topicCache remembers channel mappings and the topics known to exist.
type topicCache struct {
	mu sync.Mutex
	m  map[string]*topicEntry // topics being checked

	known    sync.Map // topic → struct{}: exists
	channels sync.Map // channel → mapping
	size     atomic.Int32
}

// mapping is a channel's topic and record key.
type mapping struct {
	topic string
	key   []byte // shared by every record of the channel; never changed
}

// maxCachedChannels bounds the channel mappings kept.
const maxCachedChannels = 4096

// mapped returns channel's topic and key, from the cache when it can.
func (c *topicCache) mapped(m Mapping, channel string) (mapping, error) {
	if v, ok := c.channels.Load(channel); ok {
		return v.(mapping), nil
	}
	topic, err := TopicFor(m, channel)
	if err != nil {
		return mapping{}, err
	}
	mp := mapping{topic: topic, key: []byte(channel)}
	if c.size.Load() < maxCachedChannels {
		if _, loaded := c.channels.LoadOrStore(channel, mp); !loaded {
			c.size.Add(1)
		}
	}
	return mp, nil
}

type topicEntry struct {
	done chan struct{} // closed once the check below has finished
	err  error
}

// ensureTopic makes sure topic exists: it creates it, or with RequireTopics
// checks it, once per transport; a failure is not remembered.
func (t *Transport) ensureTopic(ctx context.Context, topic, channel string) error {
	if _, ok := t.topics.known.Load(topic); ok {
		return nil
	}
	t.topics.mu.Lock()
	e := t.topics.m[topic]
	if e == nil {
		e = &topicEntry{done: make(chan struct{})}
		t.topics.m[topic] = e
		t.topics.mu.Unlock()
		e.err = t.checkTopic(ctx, topic, channel)
		if e.err == nil {
			t.topics.known.Store(topic, struct{}{})
		}
		if e.err != nil {
			t.topics.mu.Lock()
			delete(t.topics.m, topic)
			t.topics.mu.Unlock()
		}
		close(e.done)
		return e.err
	}
	t.topics.mu.Unlock()
	select {
	case <-e.done:
		if e.err != nil {
			return t.ensureTopic(ctx, topic, channel)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// checkTopic looks the topic up (any broker answers) and creates it when
// it is missing, unless RequireTopics: looking first spares the
// controller a request and works for users without CreateTopics rights.
func (t *Transport) checkTopic(ctx context.Context, topic, channel string) error {
	details, err := t.adm.ListTopics(ctx, topic)
	if err != nil {
		return t.classify(ctx, err)
	}
	d, ok := details[topic]
	switch {
	case ok && d.Err == nil:
		return nil
	case ok && !errors.Is(d.Err, kerr.UnknownTopicOrPartition):
		return t.classify(ctx, d.Err)
	case t.cfg.RequireTopics:
		return transport.Invalid(transport.ErrInvalidChannel,
			"topic %q for channel %s does not exist, and the driver is set to require topics (RequireTopics, URL create=false)",
			topic, transport.QuoteChannel(channel))
	}
	_, err = t.adm.CreateTopic(ctx, t.cfg.Partitions, t.cfg.ReplicationFactor, nil, topic)
	if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
		return nil
	}
	if errors.Is(err, kerr.InvalidTopicException) {
		return transport.Invalid(transport.ErrInvalidChannel, "the broker refuses topic %q for channel %s: %v", topic, transport.QuoteChannel(channel), err)
	}
	if errors.Is(err, kerr.InvalidReplicationFactor) || errors.Is(err, kerr.InvalidPartitions) || errors.Is(err, kerr.PolicyViolation) {
		return fmt.Errorf("eventpub/kafka: creating topic %q (set Partitions and ReplicationFactor, URL partitions= and replication=): %w", topic, t.cfg.scrub(err))
	}
	return t.classify(ctx, err)
}
