package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
	"github.com/eventpub/eventpub/transport"
)

// connect makes one attempt to reach the server: dial, TLS, CONNECT and
// CONNACK, within ConnectTimeout and ctx.
func (t *Transport) connect(ctx context.Context) (*link, error) {
	ctx, cancel := context.WithTimeout(ctx, t.cfg.ConnectTimeout)
	defer cancel()
	stop := context.AfterFunc(t.ctx, cancel) // Close ends an attempt at once
	defer stop()

	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", t.addr)
	if err != nil {
		return nil, dialError(t.addr, err)
	}
	if t.useTLS {
		cfg := t.cfg.TLS
		if cfg == nil {
			cfg = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		if cfg.ServerName == "" {
			cfg = cfg.Clone()
			cfg.ServerName, _, _ = net.SplitHostPort(t.addr)
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, dialError(t.addr, err)
		}
		conn = packets.NewThreadSafeConn(tc)
	}

	// The link is taken out of service the moment paho reports it lost,
	// before paho has wound down, so that calls fail fast from then on.
	l := &link{conn: conn}
	l.ctx, l.cancel = context.WithCancel(t.ctx)
	cli := paho.NewClient(paho.ClientConfig{
		ClientID:          t.cfg.ClientID,
		Conn:              conn,
		Session:           t.sess,
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){t.onPublish},
		PacketTimeout:     t.cfg.PublishTimeout,
		OnClientError:     func(err error) { t.lost(l, fmt.Errorf("eventpub/mqtt: connection to %s lost: %w", t.addr, err)) },
		OnServerDisconnect: func(d *paho.Disconnect) {
			t.lost(l, reasonError("connection to "+t.addr, d.ReasonCode, disconnectReason(d)))
		},
	})
	recvMax := uint16(65535)
	cp := &paho.Connect{
		ClientID:   t.cfg.ClientID,
		KeepAlive:  uint16(max(1, (t.cfg.KeepAlive+time.Second-1)/time.Second)),
		CleanStart: !t.cfg.KeepSession,
		Properties: &paho.ConnectProperties{RequestProblemInfo: true, ReceiveMaximum: &recvMax},
	}
	if t.cfg.KeepSession {
		exp := uint32(t.cfg.SessionExpiry / time.Second)
		cp.Properties.SessionExpiryInterval = &exp
	}
	if t.cfg.Username != "" {
		cp.Username, cp.UsernameFlag = t.cfg.Username, true
	}
	if t.cfg.Password != "" {
		cp.Password, cp.PasswordFlag = []byte(t.cfg.Password), true
	}
	l.cli = cli
	ca, err := cli.Connect(ctx, cp)
	if err != nil {
		l.cancel()
		_ = conn.Close()
		if ca != nil && ca.ReasonCode >= rcUnspecified {
			reason := ""
			if ca.Properties != nil {
				reason = ca.Properties.ReasonString
			}
			return nil, reasonError("connection to "+t.addr, ca.ReasonCode, reason)
		}
		if t.ctx.Err() != nil {
			return nil, errClosed
		}
		return nil, transport.Unavailable(fmt.Errorf("eventpub/mqtt: connect to %s: %w", t.addr, err))
	}
	maxPacket := MaxPacketSize
	if ca.Properties != nil && ca.Properties.MaximumPacketSize != nil && *ca.Properties.MaximumPacketSize > 0 {
		maxPacket = min(maxPacket, int(*ca.Properties.MaximumPacketSize))
	}
	t.maxPacket.Store(int64(maxPacket))
	return l, nil
}

func disconnectReason(d *paho.Disconnect) string {
	if d.Properties != nil {
		return d.Properties.ReasonString
	}
	return ""
}

// lost records why l went down and takes it out of service at once.
func (t *Transport) lost(l *link, err error) {
	t.mu.Lock()
	t.lastErr = transport.Unavailable(err)
	t.mu.Unlock()
	t.down(l)
}

// stalled drops l when an acknowledgement did not come within
// PublishTimeout: the link is taken out of service, so that later calls
// fail fast, and run reconnects once paho sees the connection end.
func (t *Transport) stalled(l *link) {
	t.lost(l, fmt.Errorf("eventpub/mqtt: connection to %s: no acknowledgement within PublishTimeout (%v); connection dropped", t.addr, t.cfg.PublishTimeout))
	_ = l.conn.Close()
}

// isAuth reports whether err is a refusal waiting does not cure.
func isAuth(err error) bool { return errors.Is(err, transport.ErrAuth) }

// run keeps the connection up until Close: it waits for cli (in service
// already; nil when the first attempt failed) to drop, and reconnects
// with a backoff that doubles from ReconnectWait up to MaxReconnectWait,
// with jitter.
func (t *Transport) run(l *link) {
	defer close(t.done)
	for {
		if l != nil {
			select {
			case <-l.cli.Done():
				t.down(l)
			case <-t.ctx.Done():
				t.down(l)
				// A stalled link must not hold up Close: the DISCONNECT
				// gets a second to be written, less when Close's context
				// ends sooner, none when it has ended.
				t.mu.RLock()
				cc := t.closeCtx
				t.mu.RUnlock()
				deadline := time.Now().Add(time.Second)
				if d, ok := cc.Deadline(); ok && d.Before(deadline) {
					deadline = d
				}
				_ = l.conn.SetWriteDeadline(deadline)
				stop := context.AfterFunc(cc, func() { _ = l.conn.SetWriteDeadline(time.Now()) })
				_ = l.cli.Disconnect(&paho.Disconnect{ReasonCode: 0})
				stop()
				return
			}
		}
		l = nil
		wait := t.cfg.ReconnectWait
		for l == nil {
			jitter := time.Duration(rand.Int64N(int64(wait)/4 + 1))
			timer := time.NewTimer(wait + jitter)
			select {
			case <-timer.C:
			case <-t.ctx.Done():
				timer.Stop()
				return
			}
			var err error
			if l, err = t.connect(t.ctx); err != nil {
				if t.ctx.Err() != nil {
					return
				}
				t.mu.Lock()
				t.lastErr = err
				t.mu.Unlock()
			}
			wait = min(2*wait, t.cfg.MaxReconnectWait)
		}
		t.up(l)
	}
}

// up subscribes the new link to every filter in use, then puts it into
// service, so that subscriptions opened before an outage receive again.
func (t *Transport) up(l *link) {
	t.subMu.Lock()
	defer t.subMu.Unlock()
	t.mu.RLock()
	type fs struct {
		filter string
		id     int
	}
	var all []fs
	for f, st := range t.filters {
		all = append(all, fs{f, st.id})
	}
	t.mu.RUnlock()
	for _, f := range all {
		ctx, cancel := t.bound(l.ctx, l)
		_, _ = l.cli.Subscribe(ctx, t.subscribePacket(f.filter, f.id))
		cancel()
	}
	t.mu.Lock()
	if l.ctx.Err() == nil { // not lost meanwhile: run sees it end
		t.link, t.lastErr = l, nil
	}
	t.mu.Unlock()
}

// down takes l out of service: calls fail fast from now on.
func (t *Transport) down(l *link) {
	t.mu.Lock()
	l.cancel()
	if t.link == l {
		t.link = nil
	}
	if t.lastErr == nil {
		t.lastErr = transport.Unavailable(fmt.Errorf("eventpub/mqtt: connection to %s lost", t.addr))
	}
	t.mu.Unlock()
}
