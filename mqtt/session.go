package mqtt

import (
	"context"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho/session"
	"github.com/eclipse/paho.golang/paho/session/state"
)

// ackKey is the context key under which a publish carries the channel that
// receives its acknowledgement.
type ackKey struct{}

// withAck returns a context that makes the PUBLISH sent with it report its
// acknowledgement (PUBACK, PUBREC or PUBCOMP; a zero packet when the
// session dropped it) on ack, which must have room for one packet.
func withAck(ctx context.Context, ack chan packets.ControlPacket) context.Context {
	return context.WithValue(ctx, ackKey{}, ack)
}

// trackingSession is paho's in-memory session state with one change: a
// PUBLISH added with a context from withAck reports its acknowledgement on
// that channel. With paho's send-only publish (PublishMethod_AsyncSend),
// which returns once the packet is written, this lets the driver write
// many QoS 1 publishes in order and then wait for all their PUBACKs.
type trackingSession struct {
	*state.State
}

func newSession() trackingSession { return trackingSession{state.NewInMemory()} }

// AddToSession implements session.SessionManager.
func (s trackingSession) AddToSession(ctx context.Context, p session.Packet, resp chan<- packets.ControlPacket) error {
	if ack, ok := ctx.Value(ackKey{}).(chan packets.ControlPacket); ok && p.Type() == packets.PUBLISH {
		resp = ack
	}
	return s.State.AddToSession(ctx, p, resp)
}
