package amqp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub/transport"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// A session is one AMQP connection and the publishing channel on it. The
// transport replaces it after the connection ends; amqp091-go does not
// reconnect by itself.
type session struct {
	conn *amqp091.Connection
	raw  net.Conn  // closed to drop a stalled link at once
	link *linkConn // the socket amqp091-go writes to

	dead  chan struct{} // closed when the connection has ended
	cause error         // why; set before dead is closed

	blocked atomic.Pointer[string] // the broker's reason while it blocks publishing

	prmu  sync.Mutex
	probe *probeRun // the liveness check running, if any

	pmu sync.Mutex
	pub *pubChan // the confirm-mode publishing channel; nil or closed: open anew
}

// linkConn is the socket under amqp091-go. It bounds every write by
// WriteTimeout (amqp091-go writes with no deadline, so a stalled link
// would block a publish, and every one behind the connection's lock, for
// good), and it coalesces: while publishes are being written (corked) the
// bytes amqp091-go flushes after each message are gathered, and the last
// publish to finish writes them all at once. The broker then reads many
// messages per read, and the client makes one write per group.
type linkConn struct {
	net.Conn
	timeout time.Duration

	mu    sync.Mutex
	corks int // publishes being written
	buf   []byte
	err   error // a write failed: the connection is being dropped
}

// maxCorked bounds the bytes held before they are written anyway.
const maxCorked = 128 << 10

func (c *linkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if c.corks > 0 && len(c.buf)+len(p) <= maxCorked {
		c.buf = append(c.buf, p...)
		return len(p), nil
	}
	if err := c.flushLocked(); err != nil {
		return 0, err
	}
	return c.write(p)
}

func (c *linkConn) write(p []byte) (int, error) {
	_ = c.Conn.SetWriteDeadline(time.Now().Add(c.timeout))
	n, err := c.Conn.Write(p)
	if err != nil {
		c.fail(err)
	}
	return n, err
}

func (c *linkConn) flushLocked() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.write(c.buf)
	c.buf = c.buf[:0]
	return err
}

// fail drops the connection after a write failed: amqp091-go was told
// gathered bytes were written, so the connection cannot go on; its
// reader sees the socket close and the connection ends.
func (c *linkConn) fail(err error) {
	c.err = err
	_ = c.Conn.Close()
}

// cork starts gathering writes for one publish (or batch).
func (c *linkConn) cork() {
	c.mu.Lock()
	c.corks++
	c.mu.Unlock()
}

// uncork ends one publish's gathering; the last one writes what was
// gathered.
func (c *linkConn) uncork() {
	c.mu.Lock()
	c.corks--
	if c.corks == 0 {
		_ = c.flushLocked()
	}
	c.mu.Unlock()
}

// dial makes one connection attempt bounded by ctx and sets it up: the
// exchange, the durable queue and its bindings (queue mode) and the
// publishing channel.
func (t *Transport) dial(ctx context.Context) (*session, error) {
	d := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 15 * time.Second, Interval: 5 * time.Second, Count: 3}}
	raw, err := d.DialContext(ctx, "tcp", t.ep.addr)
	if err != nil {
		return nil, err
	}
	conn := raw
	if t.ep.tls || t.cfg.TLS != nil {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if t.cfg.TLS != nil {
			tc = t.cfg.TLS.Clone()
		}
		if tc.ServerName == "" {
			tc.ServerName = t.ep.host
		}
		tl := tls.Client(raw, tc)
		if err := tl.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return nil, err
		}
		conn = tl
	}
	// Until setup is done, the end of ctx closes the socket, which ends
	// amqp091-go's handshake and calls (they take no context).
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl) // amqp091-go clears it after the handshake
	}
	props := amqp091.NewConnectionProperties()
	props.SetClientConnectionName(t.cfg.ConnectionName)
	link := &linkConn{Conn: conn, timeout: t.cfg.WriteTimeout}
	c, err := amqp091.Open(link, amqp091.Config{
		SASL:       []amqp091.Authentication{&amqp091.PlainAuth{Username: t.ep.user, Password: t.ep.password}},
		Vhost:      t.ep.vhost,
		Heartbeat:  t.cfg.Heartbeat,
		Locale:     "en_US",
		Properties: props,
	})
	if err != nil {
		stop()
		_ = raw.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	s := &session{conn: c, raw: raw, link: link, dead: make(chan struct{})}
	closes := c.NotifyClose(make(chan *amqp091.Error, 1))
	blocks := c.NotifyBlocked(make(chan amqp091.Blocking, 4))
	err = t.setup(s)
	if !stop() || err != nil {
		_ = raw.Close()
		_ = c.Close()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if !t.goBG(func() { t.watch(s, closes, blocks) }) {
		_ = c.Close()
		return nil, transport.ErrClosed
	}
	return s, nil
}

// setup declares the exchange (and the durable queue with its bindings)
// and opens the publishing channel.
func (t *Transport) setup(s *session) error {
	ch, err := s.conn.Channel()
	if err != nil {
		return err
	}
	if err := ch.ExchangeDeclare(t.cfg.Exchange, "topic", true, false, false, false, nil); err != nil {
		return t.classify(nil, err, fmt.Sprintf("declare exchange %q", t.cfg.Exchange))
	}
	if t.cfg.Queue != "" {
		if _, err := ch.QueueDeclare(t.cfg.Queue, true, false, false, false, nil); err != nil {
			return t.classify(nil, err, fmt.Sprintf("declare queue %q", t.cfg.Queue))
		}
		for _, b := range t.cfg.QueueBindings {
			if err := ch.QueueBind(t.cfg.Queue, b, t.cfg.Exchange, false, nil); err != nil {
				return t.classify(nil, err, fmt.Sprintf("bind queue %q to %q", t.cfg.Queue, b))
			}
		}
	}
	pc, err := t.newPubChan(ch)
	if err != nil {
		return err
	}
	s.pub = pc
	return nil
}

// watch ends the session when its connection closes and tracks the
// broker's connection.blocked notifications.
func (t *Transport) watch(s *session, closes <-chan *amqp091.Error, blocks <-chan amqp091.Blocking) {
	for {
		select {
		case b := <-blocks:
			s.onBlocked(b)
		case e, ok := <-closes:
			var cause error = errors.New("connection closed")
			if ok && e != nil {
				cause = e
			}
			s.cause = t.downCause(cause)
			close(s.dead)
			_ = s.raw.Close()
			return
		}
	}
}

// onBlocked records a connection.blocked or connection.unblocked.
func (s *session) onBlocked(b amqp091.Blocking) {
	if b.Active {
		reason := b.Reason
		s.blocked.Store(&reason)
	} else {
		s.blocked.Store(nil)
	}
}

// downCause is the error calls return while the broker is unreachable for
// cause: ErrAuth for refused credentials, else ErrUnavailable.
func (t *Transport) downCause(cause error) error {
	if strings.HasPrefix(cause.Error(), "eventpub") {
		return cause // classified already (a refused declare, say)
	}
	cause = t.scrub(cause)
	if isAuthDial(cause) {
		return authErr(cause, t.ep.redacted)
	}
	return transport.Unavailable(fmt.Errorf("eventpub/amqp: %s: %w", t.ep.redacted, cause))
}

// run keeps the transport connected until Close: it waits for the current
// session to end, then reconnects with capped exponential backoff. After a
// session that lasted, the first attempt is immediate; one that ended soon
// after it began (a broker that takes connections and drops them) counts
// as a failed attempt, so reconnecting never spins.
func (t *Transport) run(s *session) {
	backoff := t.cfg.MinBackoff
	for {
		if s != nil {
			t.setSession(s, nil)
			up := time.Now()
			select {
			case <-s.dead:
				t.setSession(nil, s.cause)
			case <-t.done:
				// The deadline ends a close handshake a stalled link holds
				// up, and Close's context ends it sooner.
				deadline := time.Now().Add(t.cfg.ProbeTimeout)
				if d, ok := t.closeCtx.Deadline(); ok && d.Before(deadline) {
					deadline = d
				}
				if t.closeCtx.Err() == nil {
					_ = s.conn.CloseDeadline(deadline)
				}
				_ = s.raw.Close()
				return
			}
			s = nil
			if time.Since(up) > stableSession {
				backoff = t.cfg.MinBackoff
			} else if !t.sleep(&backoff) {
				return
			}
		}
		ctx, cancel := context.WithTimeout(t.ctx, t.cfg.ConnectTimeout)
		ns, err := t.dial(ctx)
		cancel()
		if err == nil {
			s = ns
			continue
		}
		if t.ctx.Err() != nil {
			return
		}
		t.setSession(nil, t.downCause(err))
		if !t.sleep(&backoff) {
			return
		}
	}
}

// stableSession is how long a session must last for the next reconnect
// to start at once with the backoff reset.
const stableSession = 5 * time.Second

// sleep waits *backoff, then doubles it up to MaxBackoff. It returns false
// when the transport closes meanwhile.
func (t *Transport) sleep(backoff *time.Duration) bool {
	timer := time.NewTimer(*backoff)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-t.done:
		return false
	}
	*backoff = min(2**backoff, t.cfg.MaxBackoff)
	return true
}

// setSession installs s (nil while down, with cause) and wakes whoever
// waits for a new session.
func (t *Transport) setSession(s *session, cause error) {
	t.mu.Lock()
	t.sess, t.cause = s, cause
	close(t.changed)
	t.changed = make(chan struct{})
	t.mu.Unlock()
}

// current returns the live session, or at once the error calls give while
// there is none: ErrClosed, ErrUnavailable or ErrAuth.
func (t *Transport) current() (*session, error) {
	if t.closed.Load() {
		return nil, transport.ErrClosed
	}
	t.mu.Lock()
	s, cause := t.sess, t.cause
	t.mu.Unlock()
	if s == nil {
		if cause == nil {
			cause = transport.Unavailable(errors.New("eventpub/amqp: not connected yet"))
		}
		return nil, cause
	}
	select {
	case <-s.dead:
		return nil, s.cause
	default:
	}
	return s, nil
}

// goBG runs f on a goroutine Close waits for, unless the transport is
// closed (then it returns false).
func (t *Transport) goBG(f func()) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Load() {
		return false
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		f()
	}()
	return true
}

// probeRun is one liveness check of a session.
type probeRun struct {
	done chan struct{}
	err  error
}

// suspect checks that the broker still answers on s: a call whose context
// ended while it waited may have met a stalled link. With no answer within
// ProbeTimeout the connection is dropped, so that calls fail fast and
// reconnecting starts. One check runs at a time per session.
func (t *Transport) suspect(s *session) *probeRun {
	s.prmu.Lock()
	defer s.prmu.Unlock()
	if s.probe != nil {
		return s.probe
	}
	pr := &probeRun{done: make(chan struct{})}
	if !t.goBG(func() {
		pr.err = t.probeOnce(s)
		s.prmu.Lock()
		s.probe = nil
		s.prmu.Unlock()
		close(pr.done)
	}) {
		pr.err = transport.ErrClosed
		close(pr.done)
		return pr
	}
	s.probe = pr
	return pr
}

// probeOnce opens and closes a channel on s (a round trip to the broker)
// and drops the connection when that takes longer than ProbeTimeout.
func (t *Transport) probeOnce(s *session) error {
	done := make(chan error, 1)
	go func() {
		ch, err := s.conn.Channel()
		if err == nil {
			err = ch.Close()
		}
		done <- err
	}()
	timer := time.NewTimer(t.cfg.ProbeTimeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return t.classify(nil, err, "probe")
		}
		return nil
	case <-timer.C:
		_ = s.raw.Close() // the connection ends, and the probe's call with it
		<-done
		return transport.Unavailable(fmt.Errorf("eventpub/amqp: %s: no answer within %v; connection dropped", t.ep.redacted, t.cfg.ProbeTimeout))
	}
}

// deadErr is the error of a call whose session ended: ErrClosed when Close
// ended it, else why the connection ended.
func (t *Transport) deadErr(s *session) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	return s.cause
}
