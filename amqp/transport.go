package amqp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/eventpub/eventpub/transport"
)

func init() {
	for _, scheme := range []string{"amqp", "amqps"} {
		transport.Register(scheme, func(ctx context.Context, rawURL string) (transport.Transport, error) {
			t, err := Open(ctx, rawURL)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return t, nil
		})
	}
}

// Transport is the RabbitMQ (AMQP 0-9-1) driver. It implements
// transport.Transport, transport.BatchPublisher,
// transport.PatternSubscriber and transport.ContextCloser, and is safe for
// concurrent use.
type Transport struct {
	cfg Config
	ep  endpoint

	closed   atomic.Bool
	done     chan struct{}
	ctx      context.Context // ends on Close: bounds background dials
	cancel   context.CancelFunc
	closeCtx context.Context // Close's context; set before done is closed
	wg       sync.WaitGroup
	seq      atomic.Uint64 // message ids: idPrefix and a counter
	idPrefix string

	mu      sync.Mutex
	sess    *session // nil while down
	cause   error    // why down
	changed chan struct{}

	smu  sync.Mutex
	subs map[*subscription]struct{}

	qmu  sync.Mutex
	qc   *consumer // the durable queue's consumer while subscribed (queue mode)
	seen idRing    // ids the durable queue's consumers handed out
}

var (
	_ transport.Transport         = (*Transport)(nil)
	_ transport.BatchPublisher    = (*Transport)(nil)
	_ transport.PatternSubscriber = (*Transport)(nil)
	_ transport.ContextCloser     = (*Transport)(nil)
)

// Open returns a Transport for rawURL:
//
//	amqp://[user:password@]host[:port][/vhost][?options]
//	amqps://…   the same over TLS (port 5671 by default)
//
// The user and password default to guest/guest, the vhost to "/" (write
// "/%2f" or leave the path out). Query options: exchange=NAME,
// queue=NAME, bind=KEY (repeatable, or comma-separated), mandatory=true,
// connect_timeout=5s, heartbeat=5s, max_payload=BYTES, name=CONNECTION,
// tls_ca=FILE, tls_cert=FILE, tls_key=FILE (any of the tls_ ones turns
// TLS on). The URL sets only what the options leave unset.
//
// Open makes one connection attempt (up to ConnectTimeout, less when ctx
// ends sooner). When the broker does not answer it does not fail: the
// Transport connects in the background and calls fail with
// transport.ErrUnavailable until then. It fails for a bad URL or
// settings, with ErrAuth when the broker refuses the credentials, vhost or
// TLS handshake, and with ctx's error when ctx ends first. No error holds
// the password.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Transport, error) {
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	ep, err := parseURL(rawURL, &cfg)
	if err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Transport{
		cfg:     cfg.withDefaults(),
		ep:      ep,
		done:    make(chan struct{}),
		changed: make(chan struct{}),
		subs:    map[*subscription]struct{}{},
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	t.idPrefix = "ep-" + hex.EncodeToString(rnd[:]) + "-"
	t.ctx, t.cancel = context.WithCancel(context.Background())
	dctx, cancel := context.WithTimeout(ctx, t.cfg.ConnectTimeout)
	s, err := t.dial(dctx)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			t.cancel()
			return nil, ctx.Err()
		}
		cause := t.downCause(err)
		if !errors.Is(cause, transport.ErrUnavailable) {
			t.cancel()
			return nil, cause
		}
		t.cause = cause
	}
	t.sess = s
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.run(s)
	}()
	return t, nil
}

// String returns the broker URL with the password hidden.
func (t *Transport) String() string { return t.ep.redacted }

// GoString is String for %#v, which would otherwise print the password.
func (t *Transport) GoString() string { return fmt.Sprintf("amqp.Transport(%q)", t.ep.redacted) }

// Capabilities reports: Persistent with a durable Queue (messages wait
// for the subscriber), Headers, Ordered (one channel per connection
// carries every publish in order), and MaxPayload.
func (t *Transport) Capabilities() transport.Capabilities {
	return transport.Capabilities{Persistent: t.cfg.Queue != "", Headers: true, Ordered: true, MaxPayload: t.cfg.MaxPayload}
}

// Ping checks that the broker answers (a channel opened and closed).
// When it does not within ProbeTimeout the connection is dropped and
// reconnecting starts.
func (t *Transport) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s, err := t.current()
	if err != nil {
		return err
	}
	pr := t.suspect(s)
	select {
	case <-pr.done:
		return pr.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close ends every subscription, closes the connection and stops
// reconnecting. It is idempotent. Calls waiting for a confirm return
// transport.ErrClosed or ErrUnavailable. The close handshake with the
// broker waits up to ProbeTimeout; CloseContext bounds it by a context.
func (t *Transport) Close() error { return t.CloseContext(context.Background()) }

// CloseContext is Close that stops waiting for the broker when ctx ends:
// it then drops the connection at once (no close handshake) and still
// releases everything, so no goroutine outlives it. With a done ctx it
// waits for nothing from the broker. It implements transport.ContextCloser.
func (t *Transport) CloseContext(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	t.mu.Lock()
	if t.closed.Swap(true) {
		t.mu.Unlock()
		return nil
	}
	t.closeCtx = ctx
	t.mu.Unlock()
	close(t.done)
	t.cancel()
	// When ctx ends first, the socket is closed under every wait: the
	// close handshake, a probe, a consumer closing its channel.
	stop := context.AfterFunc(ctx, t.dropLink)
	defer stop()
	t.smu.Lock()
	subs := make([]*subscription, 0, len(t.subs))
	for s := range t.subs {
		subs = append(subs, s)
	}
	t.smu.Unlock()
	for _, sub := range subs {
		_ = sub.Close()
	}
	t.wg.Wait()
	return nil
}

// dropLink closes the socket of the current session, if any, so that
// every call waiting on the broker ends now.
func (t *Transport) dropLink() {
	t.mu.Lock()
	s := t.sess
	t.mu.Unlock()
	if s != nil {
		_ = s.raw.Close()
	}
}
