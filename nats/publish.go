package nats

import (
	"context"
	"errors"

	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
)

// HeaderNatsMsgID is the NATS header JetStream de-duplicates on. The driver
// sends transport.HeaderMessageID under this name and gives it back under
// transport.HeaderMessageID.
const HeaderNatsMsgID = "Nats-Msg-Id"

// Publish sends msg. Core mode returns once nats.go has buffered it (at most
// once), or, with Flush, once the server has it. JetStream mode returns once
// the stream has stored it. While the connection is down it fails at once
// with ErrUnavailable (core mode with a ReconnectBuffer buffers instead).
func (t *Transport) Publish(ctx context.Context, msg transport.Message) error {
	// The common case first, on as few instructions as can be: core mode
	// without Flush, no header, a channel checked before, the link up, the
	// payload within max_payload. Anything else, including every failure,
	// takes the full path below, which decides what the error is.
	if t.gate.Load() == 0 && len(msg.Header) == 0 {
		if e := t.subjects.lookup(msg.Channel); e != nil {
			if mp := t.maxPay.Load(); (mp <= 0 || int64(len(msg.Payload)) <= mp) && ctx.Err() == nil {
				if err := t.nc.Publish(e.subject, msg.Payload); err != nil {
					return t.classify(ctx, err)
				}
				return nil
			}
		}
	}
	return t.publish(ctx, msg)
}

// publish is Publish past its short path.
func (t *Transport) publish(ctx context.Context, msg transport.Message) error {
	if t.js != nil {
		return t.publishJS(ctx, msg)
	}
	subj, err := t.check(ctx, msg)
	if err != nil {
		return err
	}
	if !t.cfg.Flush {
		if err := t.send(subj, msg); err != nil {
			return t.classify(ctx, err)
		}
		return nil
	}
	before := t.nc.LastError()
	if err := t.send(subj, msg); err != nil {
		return t.classify(ctx, err)
	}
	if err := t.flush(ctx); err != nil {
		return t.classify(ctx, err)
	}
	return t.permissionErr(before, "publish", subj)
}

// PublishBatch sends msgs in order. Core mode buffers them all, stopping
// at the first that fails, and, with Flush, waits for the server once; it
// does not learn each message's fate, so its *transport.BatchError has no
// Results. JetStream mode sends them all without waiting, then waits for
// every ack; a message refused on its own (a bad channel, a payload too
// large, the stream's answer) does not stop the ones after it, and the
// *transport.BatchError's Results give each message's fate. In both modes
// its Sent counts the leading messages surely sent (acked in JetStream
// mode).
func (t *Transport) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	if t.js != nil {
		return t.publishBatchJS(ctx, msgs)
	}
	var before error
	var subjects []string
	if t.cfg.Flush {
		before = t.nc.LastError()
		subjects = make([]string, 0, len(msgs))
	}
	for i, msg := range msgs {
		subj, err := t.check(ctx, msg)
		if err == nil {
			if err = t.send(subj, msg); err != nil {
				err = t.classify(ctx, err)
			}
		}
		if err != nil {
			return &transport.BatchError{Sent: i, Err: err}
		}
		if t.cfg.Flush {
			subjects = append(subjects, subj)
		}
	}
	if t.cfg.Flush && len(msgs) > 0 {
		err := t.classify(ctx, t.flush(ctx))
		if err == nil {
			err = t.permissionErr(before, "publish", subjects...)
		}
		if err != nil {
			// Nothing is sure once the round trip failed, and the server
			// names only the last subject it refused.
			return &transport.BatchError{Sent: 0, Err: err}
		}
	}
	return nil
}

// StartBatch starts sending msgs and returns the batch to wait for
// (transport.BatchStarter); its Wait gives what PublishBatch gives. In
// JetStream mode it sends every message, and Wait waits for their acks:
// with several batches started, their acks are awaited together
// (JetStreamConfig.MaxPending bounds how many). In core mode it hands them
// to nats.go as PublishBatch does, and Wait flushes (see Flush): one flush
// confirms every batch started before it.
func (t *Transport) StartBatch(ctx context.Context, msgs []transport.Message) transport.PendingBatch {
	if t.js != nil {
		return t.startBatchJS(ctx, msgs)
	}
	handed, err := t.publishBatchAround(ctx, msgs)
	return &coreBatch{t: t, handed: handed, err: err, seq: t.coreBatches.Add(1)}
}

// publishBatchAround is core PublishBatch for a window of batches: a
// message refused on its own (its channel, its size) does not stop the
// ones after it, since later batches may be on their way already; the
// *transport.BatchError's Results then give every message's fate. handed
// says whether nats.go took any message.
func (t *Transport) publishBatchAround(ctx context.Context, msgs []transport.Message) (handed bool, err error) {
	var results []error // made at the first refused message
	for start := 0; ; {
		err := t.PublishBatch(ctx, msgs[start:])
		sent := len(msgs) - start
		var be *transport.BatchError
		if err != nil {
			sent = 0
			if errors.As(err, &be) {
				sent = be.Sent
			}
		}
		handed = handed || sent > 0
		refused := err != nil && (errors.Is(err, transport.ErrInvalidChannel) || errors.Is(err, transport.ErrPayloadTooLarge))
		if !refused {
			if results == nil {
				return handed, err
			}
			for i := start + sent; err != nil && i < len(msgs); i++ {
				results[i] = err
			}
			return handed, transport.ResultsError(results)
		}
		if results == nil {
			results = make([]error, len(msgs))
		}
		bad := start + sent
		results[bad] = err
		if be != nil {
			results[bad] = be.Err
		}
		if start = bad + 1; start == len(msgs) {
			return handed, transport.ResultsError(results)
		}
	}
}

// coreBatch is a core batch handed to nats.go, to be flushed.
type coreBatch struct {
	t      *Transport
	handed bool   // nats.go took some of its messages
	err    error  // publishBatchAround's
	seq    uint64 // its number among the core batches started
}

// Wait flushes unless nothing was sent or a flush begun after the batch
// was handed to nats.go has succeeded already: one round trip confirms
// every batch started before it. A failed flush vouches for none of the
// batch.
func (b *coreBatch) Wait(ctx context.Context) error {
	if !b.handed {
		return b.err
	}
	t := b.t
	if t.coreFlushed.Load() >= b.seq {
		return b.err
	}
	upTo := t.coreBatches.Load()
	if err := t.Flush(ctx); err != nil {
		return err
	}
	for {
		cur := t.coreFlushed.Load()
		if cur >= upTo || t.coreFlushed.CompareAndSwap(cur, upTo) {
			return b.err
		}
	}
}

// Flush returns once the server has processed every core message published
// before the call (one PING round trip), implementing transport.Flusher;
// in JetStream mode every publish already waits for its ack, and Flush
// returns nil. It fails with transport.ErrUnavailable when the connection
// is down, drops meanwhile, or was re-established since the last Flush that
// succeeded: messages nats.go buffered for the old connection may be lost,
// so the caller should send again what it published since then. eventpub's
// async queue calls it after every batch, which makes core NATS at least
// once in async mode at the cost of one round trip per batch.
func (t *Transport) Flush(ctx context.Context) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if t.js != nil {
		return nil
	}
	if !t.connected() {
		return t.downErr()
	}
	if err := t.flush(ctx); err != nil {
		err = t.classify(ctx, err)
		if errors.Is(err, transport.ErrUnavailable) && ctx.Err() == nil {
			t.probeLink() // no PONG on a link that looks up: stalled?
		}
		return err
	}
	// A successful flush just now: the connection's lock is free.
	now := t.nc.Stats().Reconnects
	if prev := t.flushedReconnects.Swap(now); prev != now {
		return transport.UnknownOutcome(errReconnected)
	}
	return nil
}

// errReconnected says a Flush cannot vouch for what came before it.
var errReconnected = errors.New("eventpub/nats: the connection was re-established since the last flush; messages published before may have been lost with the old one")

// check runs the tests every publish needs before anything is sent and
// returns the subject.
func (t *Transport) check(ctx context.Context, msg transport.Message) (string, error) {
	// The common case in few instructions, as in Publish: open, up, a
	// channel checked before, the payload within max_payload.
	if t.gate.Load()&^gateFull == 0 {
		if e := t.subjects.lookup(msg.Channel); e != nil {
			if mp := t.maxPay.Load(); (mp <= 0 || int64(len(msg.Payload)) <= mp) && ctx.Err() == nil {
				return e.subject, nil
			}
		}
	}
	return t.checkFull(ctx, msg)
}

// checkFull is check past its short path: it says what stands in the way.
func (t *Transport) checkFull(ctx context.Context, msg transport.Message) (string, error) {
	if t.closed.Load() {
		return "", transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return "", err
	}
	subj, err := t.subject(msg.Channel)
	if err != nil {
		return "", err
	}
	if mp := t.maxPayload(); mp > 0 && int64(len(msg.Payload)) > mp {
		return "", transport.Invalid(transport.ErrPayloadTooLarge,
			"payload of %d bytes on channel %q is over the server's max_payload of %d bytes", len(msg.Payload), msg.Channel, mp)
	}
	if !t.connected() && (t.js != nil || t.cfg.ReconnectBuffer == 0) {
		return "", t.downErr()
	}
	if t.gate.Load()&gateSuspect != 0 {
		t.probeLink() // it settles the suspicion; one runs at a time
		return "", transport.Unavailable(errStalled)
	}
	return subj, nil
}

// maxPayload is the server's max_payload as last seen on connecting (the
// state watcher refreshes it after every reconnect); 0 before the first.
func (t *Transport) maxPayload() int64 { return t.maxPay.Load() }

// send hands one core message to nats.go, which copies it into its buffer.
func (t *Transport) send(subj string, msg transport.Message) error {
	if len(msg.Header) == 0 {
		return t.nc.Publish(subj, msg.Payload)
	}
	return t.nc.PublishMsg(&natsgo.Msg{Subject: subj, Data: msg.Payload, Header: toNATSHeader(msg.Header)})
}

// toNATSHeader converts a transport header; the message id goes under
// Nats-Msg-Id.
func toNATSHeader(h map[string]string) natsgo.Header {
	if len(h) == 0 {
		return nil
	}
	out := make(natsgo.Header, len(h))
	for k, v := range h {
		if k == transport.HeaderMessageID {
			k = HeaderNatsMsgID
		}
		out[k] = []string{v}
	}
	return out
}

// fromNATSHeader converts a received header back; Nats-Msg-Id comes back as
// transport.HeaderMessageID. It returns nil when there is none.
func fromNATSHeader(h natsgo.Header) map[string]string {
	if len(h) == 0 {
		return nil
	}
	out := make(map[string]string, len(h))
	for k, v := range h {
		if len(v) == 0 {
			continue
		}
		if k == HeaderNatsMsgID {
			k = transport.HeaderMessageID
		}
		out[k] = v[0]
	}
	return out
}
