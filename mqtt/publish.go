package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	"github.com/eventpub/eventpub/transport"
)

// Publish sends msg to the topic msg.Channel with the configured QoS and
// msg.Header as MQTT 5 user properties. With QoS 1 (the default) it
// returns when the server's PUBACK arrives, with QoS 2 on PUBCOMP, with
// QoS 0 once the packet is written. While the connection is down it fails
// at once with ErrUnavailable. A link lost before the acknowledgement
// gives transport.ErrUnknownOutcome (a kind of ErrUnavailable) as soon as
// paho reports the loss: the message may or may not have arrived (in a
// kept session paho resends it after the reconnect). The wait is bounded
// by ctx and by PublishTimeout, whichever ends first; an acknowledgement
// missing after PublishTimeout also gives ErrUnknownOutcome and drops the
// link as stalled, so that later calls fail fast while the driver
// reconnects.
func (t *Transport) Publish(ctx context.Context, msg transport.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := t.packet(msg)
	if err != nil {
		return err
	}
	l, err := t.current()
	if err != nil {
		return err
	}
	// One publish takes paho's own blocking path, as a program using paho
	// by hand would; PacketTimeout (PublishTimeout) bounds it, and the
	// link's end ends it at once.
	pctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(l.ctx, cancel)
	pr, err := l.cli.Publish(pctx, p)
	stop()
	cancel()
	if pr != nil && pr.ReasonCode >= rcUnspecified {
		reason := ""
		if pr.Properties != nil {
			reason = pr.Properties.ReasonString
		}
		return reasonError("publish", pr.ReasonCode, reason)
	}
	if err != nil {
		if errors.Is(err, paho.ErrInvalidArguments) {
			return fmt.Errorf("eventpub/mqtt: publish on %s: %w", transport.QuoteChannel(msg.Channel), err)
		}
		return t.publishError(ctx, l, err)
	}
	return nil
}

// publishError classifies the failure of a publish that may have been
// written: the link lost, or no acknowledgement within PublishTimeout (the
// link is then dropped as stalled), leaves its outcome unknown.
func (t *Transport) publishError(ctx context.Context, l *link, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if t.ctx.Err() != nil {
		return transport.UnknownOutcome(fmt.Errorf("eventpub/mqtt: the transport closed before the publish was acknowledged: %w", transport.ErrClosed))
	}
	if l.ctx.Err() == nil && errors.Is(err, context.DeadlineExceeded) {
		t.stalled(l)
	}
	return transport.UnknownOutcome(fmt.Errorf("eventpub/mqtt: %s: publish not acknowledged: %w", t.addr, err))
}

// PublishBatch writes every message in order without waiting in between,
// so that up to the server's Receive Maximum QoS 1 publishes are in flight
// at once, then waits for all their acknowledgements. When some fail it
// returns a *transport.BatchError whose Results give each message's fate:
// a refused message (bad channel, too large) does not stop the others.
func (t *Transport) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	l, err := t.current()
	if err != nil {
		return err
	}
	if len(msgs) > 1 && t.cfg.QoS.level() > 0 {
		defer l.nudge()()
	}
	results := make([]error, len(msgs))
	acks := make([]chan packets.ControlPacket, len(msgs))
	for i, m := range msgs {
		p, err := t.packet(m)
		if err != nil {
			results[i] = err
			continue
		}
		if acks[i], err = t.send(ctx, l.cli, p); err != nil {
			results[i] = callError(ctx, "publish", err)
		}
	}
	w := t.newWaiter(ctx)
	w.lost = l.ctx.Done()
	defer w.stop()
	for i, ack := range acks {
		if results[i] == nil && ack != nil {
			results[i] = t.await(&w, ack)
		}
	}
	if w.timedOut {
		t.stalled(l)
	}
	sent := 0
	for sent < len(results) && results[sent] == nil {
		sent++
	}
	if sent == len(msgs) {
		return nil
	}
	return &transport.BatchError{Sent: sent, Results: results, Err: firstError(results)}
}

// firstError returns the first error in results, preferring an outage,
// which the caller retries, to a refusal.
func firstError(results []error) error {
	var first error
	for _, err := range results {
		if errors.Is(err, transport.ErrUnavailable) {
			return err
		}
		if first == nil {
			first = err
		}
	}
	return first
}

// packet checks msg and builds its PUBLISH.
func (t *Transport) packet(msg transport.Message) (*paho.Publish, error) {
	if err := checkTopic(msg.Channel); err != nil {
		return nil, err
	}
	p := &paho.Publish{QoS: t.cfg.QoS.level(), Retain: t.cfg.Retain, Topic: msg.Channel, Payload: msg.Payload}
	size := 2 + len(msg.Channel) + len(msg.Payload) + 2 + 4
	if len(msg.Header) > 0 {
		user := make(paho.UserProperties, 0, len(msg.Header))
		for k, v := range msg.Header {
			if !utf8.ValidString(k) || !utf8.ValidString(v) || hasNUL(k) || hasNUL(v) {
				return nil, fmt.Errorf("eventpub/mqtt: header %q: MQTT user properties must be UTF-8 without NUL", k)
			}
			user = append(user, paho.UserProperty{Key: k, Value: v})
			size += 5 + len(k) + len(v)
		}
		p.Properties = &paho.PublishProperties{User: user}
	}
	maxPacket := int(t.maxPacket.Load())
	if len(msg.Payload) > maxPacket-packetHeadroom || size+5 > maxPacket {
		return nil, transport.Invalid(transport.ErrPayloadTooLarge,
			"eventpub/mqtt: payload of %d bytes on %s makes a packet over the server's maximum of %d bytes",
			len(msg.Payload), transport.QuoteChannel(msg.Channel), maxPacket)
	}
	return p, nil
}

func hasNUL(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return true
		}
	}
	return false
}

// send writes p without waiting for its acknowledgement, which arrives on
// the returned channel (nil for QoS 0). The caller's Payload is not kept:
// the packet is encoded before send returns and paho's session stores the
// encoded bytes.
func (t *Transport) send(ctx context.Context, cli *paho.Client, p *paho.Publish) (chan packets.ControlPacket, error) {
	if p.QoS == 0 {
		_, err := cli.Publish(ctx, p)
		return nil, err
	}
	ack := newAck()
	_, err := cli.PublishWithOptions(withAck(ctx, ack), p, paho.PublishOptions{Method: paho.PublishMethod_AsyncSend})
	if err != nil && !errors.Is(err, paho.ErrNetworkErrorAfterStored) {
		return nil, err
	}
	// A failed write leaves the message in the session; the link's end
	// settles it (see trackingSession).
	return ack, nil
}

// waiter bounds the waits for acknowledgements: by the caller's context
// and, when it has no deadline, PublishTimeout. (A lost link answers each
// waiting publish itself: see trackingSession.)
type waiter struct {
	ctx     context.Context
	timer   *time.Timer
	timeout <-chan time.Time
	lost    <-chan struct{} // the link's end; nil: not watched

	timedOut bool // an acknowledgement did not come within PublishTimeout
}

// timers holds stopped timers for reuse: most publishes have no deadline
// and need one.
var timers sync.Pool

func (t *Transport) newWaiter(ctx context.Context) waiter {
	w := waiter{ctx: ctx}
	if _, ok := ctx.Deadline(); !ok {
		if tm, ok := timers.Get().(*time.Timer); ok {
			tm.Reset(t.cfg.PublishTimeout)
			w.timer = tm
		} else {
			w.timer = time.NewTimer(t.cfg.PublishTimeout)
		}
		w.timeout = w.timer.C
	}
	return w
}

func (w *waiter) stop() {
	if w.timer != nil {
		w.timer.Stop() // since Go 1.23 no stale tick stays in C
		timers.Put(w.timer)
	}
}

// await waits for one acknowledgement and classifies it.
func (t *Transport) await(w *waiter, ack chan packets.ControlPacket) error {
	var resp packets.ControlPacket
	select {
	case resp = <-ack:
	default:
		var why string
		select {
		case resp = <-ack:
		case <-w.ctx.Done():
			why = "ctx"
		case <-w.timeout:
			why = fmt.Sprintf("no acknowledgement within PublishTimeout (%v)", t.cfg.PublishTimeout)
			w.timedOut = true
		case <-w.lost:
			why = fmt.Sprintf("connection to %s lost before the publish was acknowledged", t.addr)
		}
		if why != "" {
			select {
			case resp = <-ack: // acknowledged all the same: it counts
			default:
				if why == "ctx" {
					return w.ctx.Err()
				}
				return transport.UnknownOutcome(errors.New("eventpub/mqtt: " + why))
			}
		}
	}
	var code byte
	var props *packets.Properties
	switch c := resp.Content.(type) {
	case *packets.Puback:
		code, props = c.ReasonCode, c.Properties
	case *packets.Pubrec:
		code, props = c.ReasonCode, c.Properties
	case *packets.Pubcomp:
		code, props = c.ReasonCode, c.Properties
	default:
		return transport.UnknownOutcome(fmt.Errorf("eventpub/mqtt: connection to %s lost before the publish was acknowledged", t.addr))
	}
	if code < rcUnspecified {
		return nil
	}
	reason := ""
	if props != nil {
		reason = props.ReasonString
	}
	return reasonError("publish", code, reason)
}

// nudgeEvery is how often a batch in progress nudges the server.
const nudgeEvery = time.Millisecond

// nudge sends the server a PINGREQ every nudgeEvery until the returned
// func is called. Servers that leave Nagle's algorithm on (Mosquitto's
// default) hold back PUBACKs while one they sent is not yet acknowledged
// at the TCP level, and a client that has nothing to send (all its
// Receive Maximum in flight, or the batch all written) acknowledges only
// after its delayed-ACK timer, up to 40 ms on Linux. Any packet from the
// client carries that TCP acknowledgement at once. A PINGREQ is two bytes
// and costs the server a two-byte PINGRESP.
func (l *link) nudge() (stop func()) {
	var (
		mu      sync.Mutex
		tm      *time.Timer
		stopped bool
	)
	mu.Lock()
	defer mu.Unlock()
	tm = time.AfterFunc(nudgeEvery, func() {
		mu.Lock()
		done := stopped
		mu.Unlock()
		if done {
			return
		}
		// Written outside the lock: a stalled link must not hold up stop.
		_, _ = packets.NewControlPacket(packets.PINGREQ).WriteTo(l.conn)
		mu.Lock()
		if !stopped {
			tm.Reset(nudgeEvery)
		}
		mu.Unlock()
	})
	return func() {
		mu.Lock()
		stopped = true
		tm.Stop()
		mu.Unlock()
	}
}

// Ping checks that the server answers: it sends an UNSUBSCRIBE for a
// random topic nobody uses and waits for the UNSUBACK. While the
// connection is down it fails at once with ErrUnavailable.
func (t *Transport) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	l, err := t.current()
	if err != nil {
		return err
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	wctx, cancel := t.bound(ctx, l)
	defer cancel()
	if _, err := l.cli.Unsubscribe(wctx, &paho.Unsubscribe{Topics: []string{"eventpub-ping/" + hex.EncodeToString(b[:])}}); err != nil {
		return callError(ctx, "ping", err)
	}
	return nil
}
