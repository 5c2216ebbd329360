package redis

import (
	"context"
	"net"
	"time"
)

// go-redis logs each failed dial of its connection pool through its one
// process-wide logger, which writes to stderr unless the program replaced
// it (redis.SetLogger); v9.23 has no per-client logger. So that a service
// using this driver does not get a "failed to dial" line on its stderr
// about once a second while Redis is down, the clients Open builds dial
// through quietDial: a failed dial returns a connection that fails its
// first read or write with the dial's error instead. go-redis then fails
// the connection's handshake with that same error, which it returns
// without logging, and the driver classifies it as before. go-redis's
// global logger is left alone. A client given to New keeps its own dialer
// (and its owner decides about go-redis's logger).

// quietDial wraps dial so that a failed dial yields a deadConn.
func quietDial(dial func(context.Context, string, string) (net.Conn, error)) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return &deadConn{err: &dialFailed{err}}, nil
		}
		return c, nil
	}
}

// plainDialer dials as go-redis's default dialer does for plain TCP and
// unix sockets.
func plainDialer(timeout time.Duration) func(context.Context, string, string) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 5 * time.Minute}
	return d.DialContext
}

// dialErr returns the dial error a deadConn carries, else nil.
func dialErr(c net.Conn) error {
	if d, ok := c.(*deadConn); ok {
		return d.err.(*dialFailed).err
	}
	return nil
}

// dialFailed carries a dial's error through go-redis, which unwraps the
// error of a failed handshake once before returning it: what it returns
// is then the dial's own error (a *net.OpError naming the address).
type dialFailed struct{ err error }

func (e *dialFailed) Error() string { return e.err.Error() }
func (e *dialFailed) Unwrap() error { return e.err }

// deadConn is a connection whose dial failed: every read and write
// returns the dial's error.
type deadConn struct{ err error }

func (c *deadConn) Read([]byte) (int, error)         { return 0, c.err }
func (c *deadConn) Write([]byte) (int, error)        { return 0, c.err }
func (c *deadConn) Close() error                     { return nil }
func (c *deadConn) LocalAddr() net.Addr              { return deadAddr{} }
func (c *deadConn) RemoteAddr() net.Addr             { return deadAddr{} }
func (c *deadConn) SetDeadline(time.Time) error      { return nil }
func (c *deadConn) SetReadDeadline(time.Time) error  { return nil }
func (c *deadConn) SetWriteDeadline(time.Time) error { return nil }

// deadAddr is the address of a deadConn.
type deadAddr struct{}

func (deadAddr) Network() string { return "tcp" }
func (deadAddr) String() string  { return "0.0.0.0:0" }
