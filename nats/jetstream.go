package nats

import (
	"context"
	"errors"
	"fmt"

	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStream publishing: sending messages to the stream and waiting for
// their acks, one at a time or in batches. The stream itself: stream.go.

// noRetry stops nats.go from re-sending a message by itself after Publish
// has returned (the caller may reuse the payload by then); the driver
// retries once itself, while it still holds the payload.
var noRetry = []jetstream.PublishOpt{jetstream.WithRetryAttempts(0)}

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
		fut, err := t.sendAsync(t.jsMsg(subj, msg))
		if err == nil {
			err = t.waitAck(ctx, fut)
		}
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

// sendAsync hands m to nats.go's async JetStream publisher unless Close
// has begun. Close waits for every call in here to return before it stops
// waiting for acks and closes the connection: nats.go's first async publish
// starts a goroutine that waits for the connection's status, and one that
// started as the connection closed would wait for good.
func (t *Transport) sendAsync(m *natsgo.Msg) (jetstream.PubAckFuture, error) {
	t.sendMu.RLock()
	defer t.sendMu.RUnlock()
	if t.closed.Load() {
		return nil, transport.ErrClosed
	}
	return t.js.PublishMsgAsync(m, noRetry...)
}

func (t *Transport) jsMsg(subj string, msg transport.Message) *natsgo.Msg {
	return &natsgo.Msg{Subject: subj, Data: msg.Payload, Header: toNATSHeader(msg.Header)}
}

// waitAck waits for fut's ack, the context, or the connection to drop. An
// ack that has already arrived wins over a context that has ended.
//
// The message was sent: when no answer came (a timeout, the context, the
// connection dropped) the error matches transport.ErrUnknownOutcome, and a
// timeout makes later publishes fail fast until the link probe has settled
// whether the link is stalled.
func (t *Transport) waitAck(ctx context.Context, fut jetstream.PubAckFuture) error {
	err := t.awaitAck(ctx, fut)
	switch {
	case err == nil, errors.Is(err, transport.ErrUnknownOutcome):
		return err
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, jetstream.ErrAsyncPublishTimeout):
		// A refused publish gets no ack either, only an -ERR: that is no
		// stall (the caller's refused turns it into ErrAuth).
		if _, subj, ok := permissionViolation(t.nc.LastError()); !ok || subj != fut.Msg().Subject {
			t.suspectStall()
		}
		return transport.UnknownOutcome(err)
	case errors.Is(err, context.Canceled):
		return transport.UnknownOutcome(err)
	}
	return err
}

// awaitAck waits for fut's ack, the context, the connection to drop or
// Close to give up on acks.
func (t *Transport) awaitAck(ctx context.Context, fut jetstream.PubAckFuture) error {
	// Each of Ok and Err makes a channel: most acks have come by now, so
	// ask Ok alone first.
	ok := fut.Ok()
	select {
	case <-ok:
		return nil
	default:
	}
	fail := fut.Err()
	select {
	case <-ok:
		return nil
	case err := <-fail:
		return err
	default:
	}
	down := *t.down.Load()
	if isClosedChan(down) {
		if t.nc.Status() != natsgo.CONNECTED {
			return transport.Unavailable(errDown)
		}
		down = nil // the watcher has not seen the reconnect yet
	}
	select {
	case <-ok:
		return nil
	case err := <-fail:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-t.abandon:
		return transport.ErrClosed
	case <-down:
		if t.closed.Load() {
			return transport.ErrClosed
		}
		return transport.UnknownOutcome(fmt.Errorf("%w before the ack arrived", errDown))
	}
}

// publishBatchJS sends every message, then waits for every ack.
func (t *Transport) publishBatchJS(ctx context.Context, msgs []transport.Message) error {
	return t.startBatchJS(ctx, msgs).Wait(ctx)
}

// jsBatch is a JetStream batch sent and waiting for its acks.
type jsBatch struct {
	t       *Transport
	before  error // the connection's last error before the batch
	futs    []jetstream.PubAckFuture
	last    int     // the last message sent, -1 for none
	results []error // made at the first failure
}

func (b *jsBatch) fail(i int, err error) {
	if b.results == nil {
		b.results = make([]error, len(b.futs))
	}
	b.results[i] = err
}

// startBatchJS sends every message without waiting for its ack. A message
// refused on its own does not stop the others; a failure that stops every
// message (the connection, Close, the context) ends the sending, and the
// messages not sent get that error.
func (t *Transport) startBatchJS(ctx context.Context, msgs []transport.Message) *jsBatch {
	b := &jsBatch{t: t, before: t.nc.LastError(), futs: make([]jetstream.PubAckFuture, len(msgs)), last: -1}
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
			b.futs[i], err = t.sendAsync(t.jsMsg(subj, msg))
			err = t.classify(ctx, err)
		}
		if err == nil {
			b.last = i
			continue
		}
		b.futs[i] = nil
		b.fail(i, err)
		if stopsAll(ctx, err) {
			for j := i + 1; j < len(msgs); j++ {
				b.fail(j, err)
			}
			break
		}
	}
	return b
}

// Wait waits for every ack of the batch: nil when all came, else a
// *transport.BatchError with each message's fate.
func (b *jsBatch) Wait(ctx context.Context) error {
	t := b.t
	// Acks come back in order: waiting for the last one first means one
	// wake-up for the batch; the loop below then mostly finds them done.
	// A future's channels deliver once, so the last one's result is kept.
	var lastErr error
	if b.last >= 0 {
		lastErr = t.waitAck(ctx, b.futs[b.last])
	}
	for i, fut := range b.futs {
		if fut == nil {
			continue
		}
		err := lastErr
		if i != b.last {
			err = t.waitAck(ctx, fut)
		}
		if err != nil {
			if errors.Is(err, jetstream.ErrNoStreamResponse) {
				t.streams.bySubject.Delete(fut.Msg().Subject)
			}
			subj := fut.Msg().Subject
			b.fail(i, t.refused(ctx, b.before, subj, t.classify(ctx, err)))
		}
	}
	clear(b.futs) // the futures hold the messages' payloads
	if b.results == nil {
		return nil
	}
	sent := 0
	for b.results[sent] == nil {
		sent++
	}
	return &transport.BatchError{Sent: sent, Results: b.results, Err: b.results[sent]}
}

// stopsAll reports errors after which no later message of a batch can go.
func stopsAll(ctx context.Context, err error) bool {
	return ctx.Err() != nil || errors.Is(err, transport.ErrUnavailable) || errors.Is(err, transport.ErrClosed)
}
