package amqp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/eventpub/eventpub/transport"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// pubChan is a channel in confirm mode. Concurrent publishes share it: each
// is written at once and waits for its own confirm, so many are in flight
// together and the broker acknowledges them in groups.
type pubChan struct {
	ch     *amqp091.Channel
	closes chan *amqp091.Error

	barrier chan chan struct{} // to the returns reader: answer once caught up
	exited  chan struct{}      // the returns reader has ended

	rmu      sync.Mutex
	returned map[string]struct{} // message ids the broker returned
	cerr     error               // the error the channel closed with
	cdone    bool                // cerr is known
}

// maxReturned bounds the ids kept for publishers that stopped waiting.
const maxReturned = 4096

func (t *Transport) newPubChan(ch *amqp091.Channel) (*pubChan, error) {
	if err := ch.Confirm(false); err != nil {
		return nil, err
	}
	p := &pubChan{
		ch:       ch,
		closes:   ch.NotifyClose(make(chan *amqp091.Error, 1)),
		barrier:  make(chan chan struct{}),
		exited:   make(chan struct{}),
		returned: map[string]struct{}{},
	}
	// Unbuffered: amqp091-go's reader hands a return over before it reads
	// the message's ack, and so before the publisher wakes.
	returns := ch.NotifyReturn(make(chan amqp091.Return))
	if !t.goBG(func() { p.readReturns(returns) }) {
		close(p.exited)
		_ = ch.Close()
		return nil, transport.ErrClosed
	}
	return p, nil
}

// readReturns records the ids of returned messages until the channel
// closes, and answers barriers.
func (p *pubChan) readReturns(returns <-chan amqp091.Return) {
	defer close(p.exited)
	for {
		select {
		case r, ok := <-returns:
			if !ok {
				return
			}
			p.rmu.Lock()
			if len(p.returned) >= maxReturned {
				clear(p.returned)
			}
			p.returned[r.MessageId] = struct{}{}
			p.rmu.Unlock()
		case reply := <-p.barrier:
			close(reply)
		}
	}
}

// wasReturned reports whether the broker returned message id; call it
// after the message's ack. The broker sends basic.return before the ack,
// and the returns reader has taken it before the ack was read; the
// barrier waits until the reader has also recorded it.
func (p *pubChan) wasReturned(id string) bool {
	reply := make(chan struct{})
	select {
	case p.barrier <- reply:
		<-reply
	case <-p.exited:
	}
	p.rmu.Lock()
	defer p.rmu.Unlock()
	_, ok := p.returned[id]
	delete(p.returned, id)
	return ok
}

// closeErr returns the error the channel was closed with, if it was.
func (p *pubChan) closeErr() (error, bool) {
	if !p.ch.IsClosed() {
		return nil, false
	}
	p.rmu.Lock()
	defer p.rmu.Unlock()
	if !p.cdone {
		select {
		case e, ok := <-p.closes:
			p.cdone = true
			if ok && e != nil {
				p.cerr = e
			}
		default:
		}
	}
	return p.cerr, true
}

// publisher returns the session and its publishing channel, opening a new
// channel when the broker closed the last one (a channel error such as a
// refused permission ends only that channel).
func (t *Transport) publisher() (*session, *pubChan, error) {
	s, err := t.current()
	if err != nil {
		return nil, nil, err
	}
	if r := s.blocked.Load(); r != nil {
		return nil, nil, transport.Unavailable(fmt.Errorf("eventpub/amqp: %s: the broker blocks publishing: %s", t.ep.redacted, *r))
	}
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if s.pub != nil && !s.pub.ch.IsClosed() {
		return s, s.pub, nil
	}
	// The broker closed the last one: a refused publish, or the exchange
	// deleted under us (NOT_FOUND), which declaring it again mends.
	ch, err := s.conn.Channel()
	if err == nil {
		err = ch.ExchangeDeclare(t.cfg.Exchange, "topic", true, false, false, false, nil)
	}
	if err == nil {
		s.pub, err = t.newPubChan(ch)
	}
	if err != nil {
		if ch != nil {
			_ = ch.Close()
		}
		return nil, nil, t.classify(nil, err, "open publishing channel")
	}
	return s, s.pub, nil
}

// pending is one message written and awaiting its confirm.
type pending struct {
	dc *amqp091.DeferredConfirmation
	id string // message id when mandatory
}

// send writes msg on p without waiting for the confirm.
func (t *Transport) send(p *pubChan, msg *transport.Message) (pending, error) {
	pub := amqp091.Publishing{Body: msg.Payload, DeliveryMode: amqp091.Persistent}
	if t.cfg.Transient {
		pub.DeliveryMode = amqp091.Transient
	}
	if len(msg.Header) > 0 {
		pub.Headers = make(amqp091.Table, len(msg.Header))
		for k, v := range msg.Header {
			pub.Headers[k] = v
		}
	}
	// Every message gets an id: it matches a return to its publish, and
	// lets a durable-queue consumer drop a redelivery it already handed out.
	var id [48]byte
	pub.MessageId = string(strconv.AppendUint(append(id[:0], t.idPrefix...), t.seq.Add(1), 36))
	var pd pending
	if t.cfg.Mandatory {
		pd.id = pub.MessageId
	}
	dc, err := p.ch.PublishWithDeferredConfirm(t.cfg.Exchange, msg.Channel, t.cfg.Mandatory, false, pub)
	pd.dc = dc
	return pd, err
}

// settled is the outcome of a confirmed message: nil when the broker has
// it, ErrUnroutable when it returned it, else why it did not take it.
func (t *Transport) settled(s *session, p *pubChan, pd pending, channel string) error {
	if pd.dc.Acked() {
		if pd.id != "" && p.wasReturned(pd.id) {
			return unroutable(channel)
		}
		return nil
	}
	if e, closed := p.closeErr(); closed {
		var aerr *amqp091.Error
		if errors.As(e, &aerr) && aerr.Code == amqp091.NotFound {
			// The exchange was deleted; the next publish declares it again.
			return transport.Unavailable(fmt.Errorf("eventpub/amqp: %s: publish to %s: %w", t.ep.redacted, transport.QuoteChannel(channel), e))
		}
		if e != nil {
			return t.classify(nil, e, "publish to "+transport.QuoteChannel(channel))
		}
		select {
		case <-s.dead:
			return t.deadErr(s)
		default:
		}
		return transport.Unavailable(fmt.Errorf("eventpub/amqp: %s: the channel closed before the broker confirmed the message", t.ep.redacted))
	}
	return transport.Unavailable(fmt.Errorf("eventpub/amqp: %s: the broker refused (nacked) the message on channel %s", t.ep.redacted, transport.QuoteChannel(channel)))
}

// await waits for pd's confirm, the end of ctx or of the session.
func (t *Transport) await(ctx context.Context, s *session, p *pubChan, pd pending, channel string) error {
	select {
	case <-pd.dc.Done():
		return t.settled(s, p, pd, channel)
	case <-ctx.Done():
		t.suspect(s)
		return ctx.Err()
	case <-s.dead:
		return t.deadErr(s)
	}
}

// check validates msg and the transport state before anything is sent.
func (t *Transport) check(ctx context.Context, msg *transport.Message) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validChannel(msg.Channel); err != nil {
		return err
	}
	if len(msg.Payload) > t.cfg.MaxPayload {
		return transport.Invalid(transport.ErrPayloadTooLarge,
			"eventpub/amqp: payload is %d bytes, over MaxPayload %d", len(msg.Payload), t.cfg.MaxPayload)
	}
	return nil
}

// Publish sends msg to the exchange with msg.Channel as the routing key
// and msg.Header as AMQP headers, and returns once the broker confirmed
// it (publisher confirms). Concurrent calls are in flight together on one
// channel. With Mandatory, a message no queue is bound to receive gives
// ErrUnroutable. While the broker is unreachable it fails at once with
// transport.ErrUnavailable.
func (t *Transport) Publish(ctx context.Context, msg transport.Message) error {
	if err := t.check(ctx, &msg); err != nil {
		return err
	}
	s, p, err := t.publisher()
	if err != nil {
		return err
	}
	s.link.cork()
	pd, err := t.send(p, &msg)
	s.link.uncork()
	if err != nil {
		return t.sendErr(ctx, s, err, msg.Channel)
	}
	return t.await(ctx, s, p, pd, msg.Channel)
}

// sendErr classifies a failed write.
func (t *Transport) sendErr(ctx context.Context, s *session, err error, channel string) error {
	select {
	case <-s.dead:
		return t.deadErr(s)
	default:
	}
	if errors.Is(err, amqp091.ErrClosed) {
		return transport.Unavailable(fmt.Errorf("eventpub/amqp: %s: publish to %s: %w", t.ep.redacted, transport.QuoteChannel(channel), err))
	}
	return t.classify(ctx, err, "publish to "+transport.QuoteChannel(channel))
}

// PublishBatch writes every message, in order, then waits for all their
// confirms. On failure it returns a *transport.BatchError whose Results
// hold each message's own outcome (nil: the broker has it) and whose Sent
// counts the leading messages the broker has.
func (t *Transport) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	if len(msgs) == 0 {
		if t.closed.Load() {
			return transport.ErrClosed
		}
		return ctx.Err()
	}
	if t.closed.Load() {
		return &transport.BatchError{Sent: 0, Err: transport.ErrClosed}
	}
	if err := ctx.Err(); err != nil {
		return &transport.BatchError{Sent: 0, Err: err}
	}
	// A message refused on its own (invalid channel, too large) does not
	// stop the ones after it: they are sent and Results tell each fate.
	results := make([]error, len(msgs))
	refused := 0
	for i := range msgs {
		if results[i] = t.check(ctx, &msgs[i]); results[i] != nil {
			refused++
		}
	}
	if refused == len(msgs) {
		return &transport.BatchError{Sent: 0, Results: results, Err: results[0]}
	}
	s, p, err := t.publisher()
	if err != nil {
		return &transport.BatchError{Sent: 0, Err: err}
	}
	pds := make([]pending, len(msgs))
	written := make([]bool, len(msgs))
	var sendFail error
	s.link.cork()
	for i := range msgs {
		if results[i] != nil {
			continue
		}
		if sendFail != nil {
			results[i] = sendFail
			continue
		}
		if pds[i], err = t.send(p, &msgs[i]); err != nil {
			sendFail = t.sendErr(ctx, s, err, msgs[i].Channel)
			results[i] = sendFail
			continue
		}
		written[i] = true
	}
	s.link.uncork()
	for i := range msgs {
		if written[i] {
			results[i] = t.await(ctx, s, p, pds[i], msgs[i].Channel)
		}
	}
	sent, first := len(msgs), error(nil)
	for i, err := range results {
		if err != nil && first == nil {
			sent, first = i, err
		}
	}
	if first == nil {
		return nil
	}
	return &transport.BatchError{Sent: sent, Results: results, Err: first}
}
