package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	"github.com/eventpub/eventpub/transport"
)

// Publish sends msg to the topic msg.Channel with the configured QoS and
// msg.Header as MQTT 5 user properties. With QoS 1 (the default) it
// returns when the server's PUBACK arrives, with QoS 2 on PUBCOMP, with
// QoS 0 once the packet is written. While the connection is down it fails
// at once with ErrUnavailable; a link lost before the acknowledgement
// also gives ErrUnavailable (the message may or may not have arrived).
// Without a deadline on ctx the wait is bounded by PublishTimeout.
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
	wctx, cancel := t.bound(ctx, l)
	defer cancel()
	ack, err := t.send(wctx, l.cli, p)
	if err != nil {
		return callError(ctx, "publish", err)
	}
	return t.await(ctx, wctx, ack)
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
	wctx, cancel := t.bound(ctx, l)
	defer cancel()
	results := make([]error, len(msgs))
	acks := make([]chan packets.ControlPacket, len(msgs))
	for i, m := range msgs {
		p, err := t.packet(m)
		if err != nil {
			results[i] = err
			continue
		}
		if acks[i], err = t.send(wctx, l.cli, p); err != nil {
			results[i] = callError(ctx, "publish", err)
		}
	}
	for i, ack := range acks {
		if results[i] == nil {
			results[i] = t.await(ctx, wctx, ack)
		}
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
	t.mu.RLock()
	maxPacket := t.maxPacket
	t.mu.RUnlock()
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
	ack := make(chan packets.ControlPacket, 1)
	_, err := cli.PublishWithOptions(withAck(ctx, ack), p, paho.PublishOptions{Method: paho.PublishMethod_AsyncSend})
	if err != nil && !errors.Is(err, paho.ErrNetworkErrorAfterStored) {
		return nil, err
	}
	// A failed write leaves the message in the session: the lost link
	// answers it with a zero packet (or, in a kept session, the resent
	// message's acknowledgement).
	return ack, nil
}

// await waits for one acknowledgement and classifies it. ctx is the
// caller's, wctx the same bounded by PublishTimeout and the link.
func (t *Transport) await(ctx, wctx context.Context, ack chan packets.ControlPacket) error {
	if ack == nil {
		return nil // QoS 0
	}
	var resp packets.ControlPacket
	select {
	case resp = <-ack:
	case <-wctx.Done():
		select {
		case resp = <-ack: // acknowledged as the link went: it counts
		default:
			return callError(ctx, "publish", wctx.Err())
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
		return transport.Unavailable(fmt.Errorf("eventpub/mqtt: connection to %s lost before the publish was acknowledged", t.addr))
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
