package nats

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream publishing: sending messages to the stream and waiting for
// their acks, one at a time or in batches (the batches' acks: jsack.go).
// The stream itself: stream.go.

// publishJS publishes one message and waits for its ack. A "no stream"
// answer (the subject was dropped from the stream by another client's
// update) re-adds the subject and tries once more.
func (t *Transport) publishJS(ctx context.Context, msg transport.Message) error {
	subj, err := t.check(ctx, msg)
	if err != nil {
		return err
	}
	before := t.nc.LastError()
	for attempt := 0; ; attempt++ {
		if _, err := t.streamFor(ctx, subj); err != nil {
			return t.refused(ctx, before, subj, err)
		}
		err := t.publishOneJS(ctx, subj, msg)
		if attempt == 0 && errors.Is(err, jetstream.ErrNoStreamResponse) {
			t.streams.bySubject.Delete(subj)
			continue
		}
		if err != nil {
			return t.refused(ctx, before, subj, t.classify(ctx, err))
		}
		return nil
	}
}

// publishOneJS sends msg on subj as a batch of one (jsack.go) and waits
// for its ack; it returns the error unclassified.
func (t *Transport) publishOneJS(ctx context.Context, subj string, msg transport.Message) error {
	b := &jsBatch{t: t, done: make(chan struct{})}
	b.subjs, b.acks = b.subj1[:], b.ack1[:]
	b.watchLink()
	reply, _, err := t.startAcks(b, 1)
	if err != nil {
		return err
	}
	err = t.reserve(ctx, b, 0)
	if err == nil {
		b.watchLink()
		if err = t.sendJS(subj, reply, msg); err != nil {
			t.unreserve(b, 0)
		}
	}
	b.sentAt = time.Now()
	t.sent(b)
	if err != nil {
		return err
	}
	b.subjs[0] = subj
	if missing := t.waitBatch(ctx, b); missing != nil {
		t.abandonAcks(b)
		if ack := b.acks[0]; ack == ackAwaited || ack == nil {
			return missing
		}
	}
	if ack := b.acks[0]; ack != ackOK {
		return ack
	}
	return nil
}

// refused returns err, a classified failure to publish on subj, or the
// permissions violation behind it. A refused publish (or JetStream API
// request) gets no answer from the server, only an -ERR on the connection,
// so it shows as a timeout: when such an -ERR for subj or the JetStream
// API came since before, that is the error.
func (t *Transport) refused(ctx context.Context, before error, subj string, err error) error {
	if ctx.Err() == nil {
		if pe := t.permissionErr(before, "publish", subj, "$JS.API.>"); pe != nil {
			return pe
		}
	}
	return err
}

// noAck turns err, why an ack did not come for messages sent on the
// subjects sentOn reports, into the publish's error: a timeout or the
// context gives transport.ErrUnknownOutcome (the message was sent), and a
// timeout suspects a stall, unless an -ERR refused one of those subjects
// (a refused publish gets no ack either, only the -ERR, which the
// caller's refused turns into ErrAuth).
func (t *Transport) noAck(err error, sentOn func(subj string) bool) error {
	switch {
	case errors.Is(err, transport.ErrUnknownOutcome):
		return err
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrAsyncPublishTimeout):
		if _, subj, ok := permissionViolation(t.nc.LastError()); !ok || !sentOn(subj) {
			t.suspectStall()
		}
		return transport.UnknownOutcome(err)
	case errors.Is(err, context.Canceled):
		return transport.UnknownOutcome(err)
	}
	return err
}

// publishBatchJS sends every message, then waits for every ack.
func (t *Transport) publishBatchJS(ctx context.Context, msgs []transport.Message) error {
	return t.startBatchJS(ctx, msgs).Wait(ctx)
}

// jsBatch is a JetStream batch sent and waiting for its acks (jsack.go).
type jsBatch struct {
	t       *Transport
	before  error         // the connection's last error before the batch
	down    chan struct{} // closed when the connection the batch went on drops
	subjs   []string      // each message's subject; "" when not sent
	results []error       // made at the first failure
	sentAt  time.Time     // when the sending ended
	done    chan struct{} // closed once every ack is in or given up on
	id      uint64        // its number in its reply subjects; 0: not registered (empty, or startAcks failed)

	// Under t.acks.mu until done is closed:
	left int     // acks awaited, plus one while the sending goes on
	acks []error // each message's ack: nil when not sent, ackAwaited until it comes, then ackOK or the stream's error

	// A single Publish's subjs and acks, spared two allocations.
	subj1 [1]string
	ack1  [1]error
}

// watchLink makes b watch the current link for a drop (b.down), unless it
// does already. During a reconnect the watcher has not seen yet (the
// channel of the old link is closed) it leaves b.down nil, to be set by a
// later call once the new link's channel is there: a batch started then
// watches the new link from its first message sent after.
func (b *jsBatch) watchLink() {
	if b.down == nil {
		if d := *b.t.down.Load(); !isClosedChan(d) {
			b.down = d
		}
	}
}

func (b *jsBatch) fail(i int, err error) {
	if b.results == nil {
		b.results = make([]error, len(b.subjs))
	}
	b.results[i] = err
}

// startBatchJS sends every message without waiting for its ack. A message
// refused on its own does not stop the others; a failure that stops every
// message (the connection, Close, the context) ends the sending, and the
// messages not sent get that error.
func (t *Transport) startBatchJS(ctx context.Context, msgs []transport.Message) *jsBatch {
	b := &jsBatch{t: t, before: t.nc.LastError(), subjs: make([]string, len(msgs)), done: make(chan struct{})}
	if len(msgs) == 0 {
		return b
	}
	b.watchLink()
	replies, w, err := t.startAcks(b, len(msgs))
	if err != nil {
		err = t.classify(ctx, err)
		for i := range msgs {
			b.fail(i, err)
		}
		return b
	}
	b.acks = make([]error, len(msgs))
	streamed := "" // the last subject streamFor found a stream for
	for i, msg := range msgs {
		subj, err := t.check(ctx, msg)
		if err == nil && subj != streamed {
			if _, err = t.streamFor(ctx, subj); err != nil {
				err = t.refused(ctx, b.before, subj, err)
			} else {
				streamed = subj
			}
		}
		if err == nil {
			err = t.reserve(ctx, b, i)
		}
		if err == nil {
			b.watchLink()
			if err = t.classify(ctx, t.sendJS(subj, replies[i*w:(i+1)*w], msg)); err != nil {
				t.unreserve(b, i)
			}
		}
		if err == nil {
			b.subjs[i] = subj
			continue
		}
		b.fail(i, err)
		if stopsAll(ctx, err) {
			for j := i + 1; j < len(msgs); j++ {
				b.fail(j, err)
			}
			break
		}
	}
	b.sentAt = time.Now()
	t.sent(b)
	return b
}

// sendJS hands one JetStream message to nats.go, its ack to come on reply,
// unless Close has begun (Close waits for every call in here to return).
func (t *Transport) sendJS(subj, reply string, msg transport.Message) error {
	t.sendMu.RLock()
	defer t.sendMu.RUnlock()
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if len(msg.Header) == 0 {
		return t.nc.PublishRequest(subj, reply, msg.Payload)
	}
	return t.nc.PublishMsg(&natsgo.Msg{Subject: subj, Reply: reply, Data: msg.Payload, Header: toNATSHeader(msg.Header)})
}

// Wait waits for every ack of the batch: nil when all came, else a
// *transport.BatchError with each message's fate.
func (b *jsBatch) Wait(ctx context.Context) error {
	t := b.t
	var missing error // the fate of a message sent whose ack did not come
	if b.id != 0 {
		if missing = t.waitBatch(ctx, b); missing != nil {
			t.abandonAcks(b)
		}
	}
	for i, subj := range b.subjs {
		if subj == "" {
			continue // not sent: its fate is in results
		}
		err := b.acks[i]
		switch err {
		case ackOK:
			continue
		case ackAwaited, nil:
			if err = missing; err == nil {
				// Cannot be (done is closed once every ack is in); a
				// message with no ack is never counted as published.
				err = transport.UnknownOutcome(errors.New("eventpub/nats: no ack recorded"))
			}
		}
		if errors.Is(err, jetstream.ErrNoStreamResponse) {
			t.streams.bySubject.Delete(subj)
		}
		b.fail(i, t.refused(ctx, b.before, subj, t.classify(ctx, err)))
	}
	if b.results == nil {
		return nil
	}
	return transport.ResultsError(b.results)
}

// waitBatch waits until every ack of b is in, the batch's deadline
// (PublishTimeout after its sending ended), the context, Close giving up
// on acks, or the connection dropping. It returns the fate of a message
// whose ack has not come, nil when all came: an ack that has come wins
// over the rest.
//
// The messages were sent: when no answer came the error matches
// transport.ErrUnknownOutcome, and a timeout makes later publishes fail
// fast until the link probe has settled whether the link is stalled.
func (t *Transport) waitBatch(ctx context.Context, b *jsBatch) error {
	select {
	case <-b.done:
		return nil
	default:
	}
	timer := time.NewTimer(t.cfg.PublishTimeout - time.Since(b.sentAt))
	defer timer.Stop()
	var err error
	select {
	case <-b.done:
		return nil
	case <-timer.C:
		err = jetstream.ErrAsyncPublishTimeout
	case <-ctx.Done():
		err = ctx.Err()
	case <-t.abandon:
		err = transport.ErrClosed
	case <-b.down:
		err = transport.UnknownOutcome(fmt.Errorf("%w before the ack arrived", errDown))
		if t.closed.Load() {
			err = transport.ErrClosed
		}
	}
	select {
	case <-b.done:
		return nil
	default:
	}
	return t.noAck(err, func(subj string) bool { return slices.Contains(b.subjs, subj) })
}

// stopsAll reports errors after which no later message of a batch can go.
func stopsAll(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, transport.ErrUnavailable) || errors.Is(err, transport.ErrClosed)
}
