package kafka

import (
	"context"
	"errors"
	"fmt"
	"sync"
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
// cluster is found down: a record franz-go had not sent fails at once; one
// already sent is resolved only when a broker answers again, which after a
// short outage (a broker restart) comes within this.
const downGrace = time.Second

const (
	batchOverhead  = 61
	recordOverhead = 5 + 1 + 10 + 5 + 5 + 5 + 5
	headerOverhead = 10 // key and value length varints
)

// record builds the record for msg on topic, or says why it cannot be
// sent. The payload and headers are copied: franz-go may still hold the
// record after Publish returns (a context that ended first).
func (t *Transport) record(msg transport.Message) (*kgo.Record, error) {
	topic, err := TopicFor(t.cfg.Mapping, msg.Channel)
	if err != nil {
		return nil, err
	}
	size := batchOverhead + recordOverhead + len(msg.Channel) + len(msg.Payload)
	for k, v := range msg.Header {
		size += headerOverhead + len(k) + len(v)
	}
	if limit := int(t.cfg.MaxRecordBatchBytes); len(msg.Payload) > t.maxPayload() || size > limit {
		return nil, transport.Invalid(transport.ErrPayloadTooLarge,
			"message of %d bytes (payload %d) on channel %s is over the %d-byte record batch limit (MaxPayload %d without headers)",
			size, len(msg.Payload), transport.QuoteChannel(msg.Channel), limit, t.maxPayload())
	}
	r := &kgo.Record{Topic: topic, Key: []byte(msg.Channel), Value: append(make([]byte, 0, len(msg.Payload)), msg.Payload...)}
	if len(msg.Header) > 0 {
		r.Headers = make([]kgo.RecordHeader, 0, len(msg.Header))
		for k, v := range msg.Header {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
	}
	return r, nil
}

// Publish sends msg and returns once every in-sync replica has it (acks=all,
// idempotent producer), or with ErrUnavailable at once while no broker
// answers. When ctx (or PublishTimeout, when ctx has no deadline) ends
// first, the message may still be delivered later.
func (t *Transport) Publish(ctx context.Context, msg transport.Message) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r, err := t.record(msg)
	if err != nil {
		return err
	}
	if !t.isUp() {
		t.suspect()
		return t.downErr()
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	if err := t.ensureTopic(ctx, r.Topic, msg.Channel); err != nil {
		return err
	}
	pctx, down := t.current()
	done := make(chan error, 1)
	t.cl.TryProduce(pctx, r, func(_ *kgo.Record, err error) { done <- err })
	select {
	case err := <-done:
		return t.produced(ctx, err)
	case <-ctx.Done():
		t.suspect()
		return ctx.Err()
	case <-down:
		// franz-go fails at once the records it can (not yet sent). A
		// record already sent waits for an answer: give it downGrace,
		// then report the outage (it may still be delivered, once).
		timer := time.NewTimer(downGrace)
		defer timer.Stop()
		select {
		case err := <-done:
			return t.produced(ctx, err)
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
			return transport.Unavailable(errDown)
		}
	}
}

// produced classifies a produce result and starts a check of the cluster
// when it looks like an outage.
func (t *Transport) produced(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	err = t.classify(ctx, err)
	if errors.Is(err, transport.ErrUnavailable) {
		t.suspect()
	}
	return err
}

// PublishBatch produces every message, then waits for all of them: one
// round trip per partition batch rather than per message. It fails with a
// *transport.BatchError whose Results give each message's fate; messages
// on one channel are produced in order, so a message that failed is
// followed on its channel only by messages that failed too.
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
	recs := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		recs[i], b.out[i] = t.record(m)
		if b.out[i] == nil {
			b.out[i] = t.ensureTopic(ctx, recs[i].Topic, m.Channel)
		}
		if b.out[i] == nil {
			b.left++
		}
	}
	if b.left == 0 {
		close(b.done)
	}
	pctx, _ := t.current()
	for i, r := range recs {
		if b.out[i] != nil {
			continue
		}
		b.sent[i] = true
		t.cl.TryProduce(pctx, r, func(_ *kgo.Record, err error) { b.result(i, err) })
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
	out  []error // each message's fate (nil: sent, once its promise came)
	sent []bool  // produced: out waits for the promise
	left int     // promises still to come
	done chan struct{}
}

func (b *batch) result(i int, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.out[i], b.sent[i] = err, false
	b.left--
	if b.left == 0 {
		close(b.done)
	}
}

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
			out[i] = waitErr
		case err != nil:
			out[i] = t.classify(ctx, err)
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

// topicCache remembers the topics known to exist.
type topicCache struct {
	mu sync.Mutex
	m  map[string]*topicEntry
}

type topicEntry struct {
	done chan struct{} // closed once the check below has finished
	err  error
}

// ensureTopic makes sure topic exists: it creates it, or with RequireTopics
// checks it, once per transport; a failure is not remembered.
func (t *Transport) ensureTopic(ctx context.Context, topic, channel string) error {
	t.topics.mu.Lock()
	e := t.topics.m[topic]
	if e == nil {
		e = &topicEntry{done: make(chan struct{})}
		t.topics.m[topic] = e
		t.topics.mu.Unlock()
		e.err = t.checkTopic(ctx, topic, channel)
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
