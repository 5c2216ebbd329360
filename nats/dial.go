package nats

import (
	"context"
	"errors"
	"fmt"
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
	// failed holds the error of the last dial, nil once one succeeds, so
	// that "not connected" can say why (a name that does not resolve, a
	// refused port).
	failed atomic.Pointer[error]
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

// lastFailure returns the error of the last dial when it failed.
func (d *firstDialer) lastFailure() error {
	if p := d.failed.Load(); p != nil {
		return *p
	}
	return nil
}

// Dial implements nats.CustomDialer.
func (d *firstDialer) Dial(network, address string) (net.Conn, error) {
	ctx := d.first()
	if ctx == nil {
		ctx = context.Background()
	}
	c, err := d.dialer.DialContext(ctx, network, address)
	if err != nil {
		d.failed.Store(&err)
		return nil, err
	}
	d.failed.Store(nil)
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

// notConnected is the cause given while the connection is down: errDown,
// naming the servers and why the last dial failed when one did (a host
// name that does not resolve, a refused port), so that a one-shot command
// says what is wrong.
func (t *Transport) notConnected() error {
	d, ok := t.nc.Opts.CustomDialer.(*firstDialer)
	if !ok {
		return errDown
	}
	cause := d.lastFailure()
	if cause == nil {
		return errDown
	}
	return &downCause{msg: fmt.Sprintf("eventpub/nats: not connected to %s: %v (reconnecting in the background)",
		t.cfg.serverList(), t.cfg.scrub(cause)), errs: []error{errDown, cause}}
}

// downCause is errDown with the servers and the last dial's error.
type downCause struct {
	msg  string
	errs []error
}

func (e *downCause) Error() string   { return e.msg }
func (e *downCause) Unwrap() []error { return e.errs }
