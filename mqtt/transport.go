package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"

	"github.com/eclipse/paho.golang/paho"
	"github.com/eventpub/eventpub/transport"
)

// Transport publishes and subscribes on one MQTT 5 server over one
// connection, kept up in the background. It is safe for concurrent use.
type Transport struct {
	cfg    Config
	addr   string // host:port to dial
	useTLS bool
	sess   *trackingSession

	ctx    context.Context // ends at Close; bounds connecting
	cancel context.CancelFunc
	done   chan struct{} // closed when the connection loop has exited

	subMu sync.Mutex // serializes SUBSCRIBE/UNSUBSCRIBE, with resubscribing

	mu        sync.RWMutex
	link      *link        // nil while down
	maxPacket atomic.Int64 // the server's Maximum Packet Size, or MaxPacketSize
	lastErr   error        // why the transport is down
	closed    bool
	closeCtx  context.Context // Close's context, set with closed
	subs      map[*subscription]struct{}
	filters   map[string]*filterState
	byID      map[int]string // subscription identifier → filter
	nextID    int
	pendMu    sync.Mutex
	pending   []transport.Message // kept-session messages no subscription took yet
}

// filterState is one topic filter subscribed on the server.
type filterState struct {
	refs int // subscriptions using it
	id   int // its MQTT subscription identifier
}

var (
	_ transport.Transport         = (*Transport)(nil)
	_ transport.BatchPublisher    = (*Transport)(nil)
	_ transport.PatternSubscriber = (*Transport)(nil)
	_ transport.ContextCloser     = (*Transport)(nil)
)

// New returns a Transport for cfg; see Open for what it promises. It fails
// for a Config that does not Validate, listing every problem.
func New(ctx context.Context, cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg.setDefaults()
	if cfg.ClientID == "" {
		var b [8]byte
		_, _ = rand.Read(b[:])
		cfg.ClientID = "eventpub-" + hex.EncodeToString(b[:])
	}
	useTLS, addr, _ := splitServer(cfg.Server)
	t := &Transport{
		cfg: cfg, addr: addr, useTLS: useTLS || cfg.TLS != nil, sess: newSession(cfg.KeepSession),
		done: make(chan struct{}), lastErr: errDown,
		subs: map[*subscription]struct{}{}, filters: map[string]*filterState{}, byID: map[int]string{},
	}
	t.maxPacket.Store(MaxPacketSize)
	t.ctx, t.cancel = context.WithCancel(context.Background())
	l, err := t.connect(ctx)
	if err != nil {
		if ctx.Err() != nil || isAuth(err) {
			t.cancel()
			_ = t.sess.Close()
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		t.lastErr = err
	} else {
		t.up(l)
	}
	go t.run(l)
	return t, nil
}

// Capabilities: headers (MQTT 5 user properties) round-trip, one
// publisher's messages on one topic arrive in order, and MaxPayload keeps
// the packet within the server's Maximum Packet Size. Persistent is false:
// MQTT keeps messages only for subscriptions a session already has (and
// one retained message per topic), not for a subscriber that comes later.
func (t *Transport) Capabilities() transport.Capabilities {
	return transport.Capabilities{Headers: true, Ordered: true, MaxPayload: int(t.maxPacket.Load()) - packetHeadroom}
}

// packetHeadroom is the part of the Maximum Packet Size kept for the fixed
// header, the topic (at most transport.MaxChannelLen bytes), the packet id
// and the property length. User properties count on top.
const packetHeadroom = 5 + 2 + transport.MaxChannelLen + 2 + 4

// Close disconnects, ends every Subscription with ErrClosed and stops the
// reconnect loop; the DISCONNECT gets up to a second on a stalled link. It
// is idempotent and returns when all is stopped.
func (t *Transport) Close() error { return t.CloseContext(context.Background()) }

// CloseContext is Close that stops waiting for the server when ctx ends:
// the connection is then dropped without its DISCONNECT, and everything
// is still released. With a done ctx it waits for nothing from the
// server. It implements transport.ContextCloser.
func (t *Transport) CloseContext(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		<-t.done
		return nil
	}
	t.closed = true
	t.closeCtx = ctx
	subs := t.subs
	t.subs = map[*subscription]struct{}{}
	t.mu.Unlock()
	t.cancel()
	<-t.done
	for s := range subs {
		s.end()
	}
	_ = t.sess.Close()
	return nil
}

// String describes the transport without secrets.
func (t *Transport) String() string {
	return fmt.Sprintf("mqtt.Transport{%s client_id=%q}", transport.Redact(t.cfg.Server), t.cfg.ClientID)
}

// GoString is String, so that %#v shows no secret either.
func (t *Transport) GoString() string { return t.String() }

// link is one live connection.
type link struct {
	cli  *paho.Client
	conn net.Conn // for nudge; paho owns it
	// ctx ends when the connection is lost or the transport closes. paho
	// forgets the requests in flight on a lost connection without
	// answering them, so every wait on the link also watches ctx.
	ctx    context.Context
	cancel context.CancelFunc
}

// bound returns ctx limited to PublishTimeout when it has no deadline,
// and cancelled when the link is lost.
func (t *Transport) bound(ctx context.Context, l *link) (context.Context, context.CancelFunc) {
	var cancel context.CancelFunc
	if _, ok := ctx.Deadline(); ok {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = context.WithTimeout(ctx, t.cfg.PublishTimeout)
	}
	stop := context.AfterFunc(l.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// current returns the live link, or the error to fail fast with.
func (t *Transport) current() (*link, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	switch {
	case t.closed:
		return nil, errClosed
	case t.link == nil:
		if isAuth(t.lastErr) || errors.Is(t.lastErr, transport.ErrUnavailable) {
			return nil, t.lastErr
		}
		return nil, transport.Unavailable(t.lastErr)
	}
	return t.link, nil
}
