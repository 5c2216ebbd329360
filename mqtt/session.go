package mqtt

import (
	"context"
	"sync"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho/session"
	"github.com/eclipse/paho.golang/paho/session/state"
)

// ackKey is the context key under which a publish carries the channel that
// receives its acknowledgement.
type ackKey struct{}

// newAck returns a channel for one publish's acknowledgement. It has room
// for two packets: the acknowledgement and the zero packet that says the
// link was lost, which may both come, so that paho never blocks on it.
func newAck() chan packets.ControlPacket { return make(chan packets.ControlPacket, 2) }

// withAck returns a context that makes the PUBLISH sent with it report its
// acknowledgement (PUBACK, PUBREC or PUBCOMP) on ack, or a zero packet
// when the link is lost first.
func withAck(ctx context.Context, ack chan packets.ControlPacket) context.Context {
	return context.WithValue(ctx, ackKey{}, ack)
}

// trackingSession is paho's in-memory session state with two changes. A
// PUBLISH added with a context from withAck reports its acknowledgement on
// that channel: with paho's send-only publish (PublishMethod_AsyncSend),
// which returns once the packet is written, the driver writes many QoS 1
// publishes in order and then waits for all their PUBACKs. And when the
// connection is lost, every publish still waiting hears of it at once
// (paho's state forgets them silently, leaving a waiter to its deadline);
// in a kept session only the withAck ones do.
type trackingSession struct {
	*state.State
	kept    bool // the server keeps the session: paho resends after a reconnect
	mu      sync.Mutex
	waiting map[uint16]chan<- packets.ControlPacket // by packet id
}

func newSession(kept bool) *trackingSession {
	return &trackingSession{State: state.NewInMemory(), kept: kept, waiting: map[uint16]chan<- packets.ControlPacket{}}
}

// AddToSession implements session.SessionManager.
func (s *trackingSession) AddToSession(ctx context.Context, p session.Packet, resp chan<- packets.ControlPacket) error {
	pub, isPub := p.(*packets.Publish)
	if !isPub {
		return s.State.AddToSession(ctx, p, resp)
	}
	if ack, ok := ctx.Value(ackKey{}).(chan packets.ControlPacket); ok {
		resp = ack
	}
	if err := s.State.AddToSession(ctx, p, resp); err != nil {
		return err
	}
	// paho writes the packet after this returns, so no acknowledgement
	// can come before it is recorded.
	s.mu.Lock()
	s.waiting[pub.PacketID] = resp
	s.mu.Unlock()
	return nil
}

// PacketReceived implements session.SessionManager.
func (s *trackingSession) PacketReceived(recv *packets.ControlPacket, pubs chan<- *packets.Publish) error {
	final := false
	switch c := recv.Content.(type) {
	case *packets.Puback, *packets.Pubcomp:
		final = true
	case *packets.Pubrec:
		final = c.ReasonCode >= rcUnspecified
	}
	if final {
		s.mu.Lock()
		delete(s.waiting, recv.PacketID())
		s.mu.Unlock()
	}
	return s.State.PacketReceived(recv, pubs)
}

// ConnectionLost implements session.SessionManager.
func (s *trackingSession) ConnectionLost(dp *packets.Disconnect) error {
	s.mu.Lock()
	for id, ack := range s.waiting {
		// paho's own response channels have room for one packet: in a
		// kept session the acknowledgement of the resent message still
		// goes there, so they are left to their deadline.
		if !s.kept || cap(ack) > 1 {
			select {
			case ack <- packets.ControlPacket{}: // paho answers a blocking Publish with an error
			default:
			}
		}
		delete(s.waiting, id)
	}
	s.mu.Unlock()
	return s.State.ConnectionLost(dp)
}
