package nats

import (
	"context"
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// firstDialer dials servers for nats.go. While Connect makes its first
// attempt, Open's context bounds each dial and the connect handshake (TLS
// included); every later dial, the reconnects, uses ConnectTimeout alone.
// nats.go keeps its Timeout option for every reconnect, so Open's context
// must not shorten that option itself.
type firstDialer struct {
	dialer net.Dialer      // Timeout is ConnectTimeout
	ctx    context.Context // Open's
	over   atomic.Bool     // the first attempt is over
}

func newFirstDialer(ctx context.Context, timeout time.Duration) *firstDialer {
	return &firstDialer{dialer: net.Dialer{Timeout: timeout}, ctx: ctx}
}

// firstOver makes later dials ignore Open's context.
func (d *firstDialer) firstOver() { d.over.Store(true) }

// first returns Open's context during the first attempt, else nil.
func (d *firstDialer) first() context.Context {
	if d.over.Load() {
		return nil
	}
	return d.ctx
}

// Dial implements nats.CustomDialer.
func (d *firstDialer) Dial(network, address string) (net.Conn, error) {
	ctx := d.first()
	if ctx == nil {
		ctx = context.Background()
	}
	c, err := d.dialer.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	sc := &serverConn{Conn: c}
	if dl, ok := ctx.Deadline(); ok {
		sc.d, sc.limit = d, dl
	}
	return sc, nil
}

// serverConn is a connection to a server. A write that times out (nats.go
// sets FlusherTimeout as its deadline) closes it: the link has stalled,
// and nats.go, which closes it only when part of the write went out,
// reconnects once it is closed. On a connection made during the first
// attempt, no deadline lies past Open's until that attempt is over.
type serverConn struct {
	net.Conn
	d     *firstDialer // nil: no limit
	limit time.Time
}

func (c *serverConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		c.Conn.Close()
	}
	return n, err
}

func (c *serverConn) clip(t time.Time) time.Time {
	if c.d != nil && !t.IsZero() && t.After(c.limit) && c.d.first() != nil {
		return c.limit
	}
	return t
}

func (c *serverConn) SetDeadline(t time.Time) error { return c.Conn.SetDeadline(c.clip(t)) }

func (c *serverConn) SetReadDeadline(t time.Time) error { return c.Conn.SetReadDeadline(c.clip(t)) }

func (c *serverConn) SetWriteDeadline(t time.Time) error { return c.Conn.SetWriteDeadline(c.clip(t)) }
