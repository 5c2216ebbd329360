package redis

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

func init() {
	for _, scheme := range []string{"redis", "rediss", "unix"} {
		transport.Register(scheme, func(ctx context.Context, rawURL string) (transport.Transport, error) {
			t, err := Open(ctx, rawURL)
			if err != nil {
				return nil, err // not a typed nil in the interface
			}
			return t, nil
		})
	}
}

// Transport is the Redis driver. It implements transport.Transport,
// transport.BatchPublisher and transport.PatternSubscriber, and is safe
// for concurrent use.
type Transport struct {
	client  goredis.UniversalClient
	owned   bool
	cluster bool
	cfg     Config
	addr    string // redacted, for errors and String
	secret  string // the password, to scrub from error texts
	pipe    pipeliner
	cp      *connPipe // nil: Publish goes through pipe
	taps    taps      // go-redis hooks around cp: hooks.go

	closed atomic.Bool
	done   chan struct{}
	ctx    context.Context // ends on Close: bounds background calls
	cancel context.CancelFunc
	wg     sync.WaitGroup

	down    atomic.Bool
	hmu     sync.Mutex
	cause   error
	probing bool

	smu  sync.Mutex
	subs map[*subscription]struct{}

	streams streamState // ModeStreams and ModeDual: streams.go
}

var (
	_ transport.Transport         = (*Transport)(nil)
	_ transport.BatchPublisher    = (*Transport)(nil)
	_ transport.PatternSubscriber = (*Transport)(nil)
)

// New returns a Transport on client: a *goredis.Client (standalone or
// Sentinel failover) or a *goredis.ClusterClient. The Transport does not own
// client: Close leaves it open. The timeout and pool options do not apply
// (the client keeps its own); the others do. New never contacts Redis.
// Set ContextTimeoutEnabled in the client's options so that a stalled
// connection is bounded by each call's context, as it is for Open's.
// For a plain standalone *goredis.Client, Publish streams on connections of
// its own made with the client's dialer and credentials; hooks on the
// client (Client.AddHook: redisotel, redisprometheus, …) still see each
// PUBLISH as a command of its own (see the package doc, # Hooks).
func New(client goredis.UniversalClient, opts ...Option) (*Transport, error) {
	if client == nil {
		return nil, errors.New("eventpub/redis: New needs a client, got nil")
	}
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	t, err := newTransport(client, cfg)
	if err != nil {
		return nil, err
	}
	t.addr, t.secret = describe(client)
	if t.cp != nil {
		t.taps.hooked.Store(true) // the client may have hooks already
	}
	return t, nil
}

// Open returns a Transport on a client it builds from rawURL and owns:
//
//	redis://[user:password@]host[:port][/db][?options]
//	rediss://…   the same over TLS (the system roots verify the server)
//	unix://[user:password@]/path/redis.sock[?db=N]
//
// Query options are go-redis's (dial_timeout, read_timeout, pool_size, …)
// plus sharded=true for [WithSharded] and, for streams and dual mode,
// mode=streams|dual, maxlen, prefix, start=all|new|ID, group and consumer
// (see [StreamsConfig]), and tls_ca=FILE (PEM CA certificates to trust
// instead of the system roots), tls_cert=FILE and tls_key=FILE (a client
// certificate), which turn TLS on for a redis:// URL too; [WithTLS]
// replaces what they set. Options passed in code win over the URL. Open
// succeeds while Redis is down. For rediss:// it makes one TLS handshake
// (bounded by ctx and the dial timeout, as a NATS Open's first attempt is)
// and fails with an error matching ErrAuth when the server's certificate
// does not verify; a server that does not answer is no error. No error it
// returns contains the password.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Transport, error) {
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	pubURL, fromURL, err := takeStreamParams(rawURL)
	if err != nil {
		return nil, err
	}
	gopts, sharded, err := parseURL(pubURL)
	if err != nil {
		return nil, err
	}
	if sharded || fromURL != nil {
		if sharded {
			cfg.Sharded = true
		}
		if fromURL != nil {
			fromURL(&cfg)
		}
		for _, o := range opts { // options in code win
			o(&cfg)
		}
	}
	if cfg.DialTimeout == 0 && gopts.DialTimeout != 0 {
		cfg.DialTimeout = gopts.DialTimeout
	}
	if cfg.ReadTimeout == 0 && gopts.ReadTimeout != 0 {
		cfg.ReadTimeout = gopts.ReadTimeout
	}
	if cfg.WriteTimeout == 0 && gopts.WriteTimeout != 0 {
		cfg.WriteTimeout = gopts.WriteTimeout
	}
	if cfg.PoolSize == 0 {
		cfg.PoolSize = gopts.PoolSize
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	full := cfg.withDefaults()
	gopts.DialTimeout = full.DialTimeout
	gopts.ReadTimeout = full.ReadTimeout
	gopts.WriteTimeout = full.WriteTimeout
	gopts.PoolSize = full.PoolSize
	if cfg.TLS != nil {
		tc := cfg.TLS.Clone()
		if tc.ServerName == "" && gopts.TLSConfig != nil {
			tc.ServerName = gopts.TLSConfig.ServerName
		}
		if tc.ServerName == "" && gopts.Network == "tcp" {
			tc.ServerName, _, _ = net.SplitHostPort(gopts.Addr)
		}
		gopts.TLSConfig = tc
	}
	if gopts.TLSConfig != nil {
		gopts.Dialer = quietDial(tlsDialer(gopts.DialTimeout, gopts.TLSConfig))
	} else {
		gopts.Dialer = quietDial(plainDialer(gopts.DialTimeout))
	}
	// One dial attempt and no command retries: the first failure surfaces
	// within the dial timeout and the health check takes over; a retried
	// PUBLISH could also be delivered twice.
	// Bound every socket read and write by the caller's deadline too, not
	// only by ReadTimeout/WriteTimeout.
	gopts.ContextTimeoutEnabled = true
	gopts.DialerRetries = 1
	if gopts.MaxRetries == 0 {
		gopts.MaxRetries = -1
	}
	client := goredis.NewClient(gopts)
	t, err := newTransport(client, cfg)
	if err != nil {
		_ = client.Close()
		return nil, err
	}
	t.owned = true
	t.addr = transport.Redact(rawURL)
	t.secret = gopts.Password
	if gopts.TLSConfig != nil {
		if err := t.checkCertificate(ctx, gopts); err != nil {
			_ = t.Close()
			return nil, err
		}
	}
	return t, nil
}

// checkCertificate makes one TLS handshake with the server, bounded by ctx
// and the dial timeout, and returns an error matching ErrAuth when the
// server's certificate does not verify: that is a settings problem no
// retry mends, so Open fails, as the NATS driver's does. A server that does
// not answer is no error here (Open never fails because Redis is down).
func (t *Transport) checkCertificate(ctx context.Context, o *goredis.Options) error {
	dctx, cancel := context.WithTimeout(ctx, o.DialTimeout)
	defer cancel()
	c, err := tlsDialer(o.DialTimeout, o.TLSConfig)(dctx, o.Network, o.Addr)
	if err != nil {
		if certErr(err) {
			return t.mapErr(nil, err)
		}
		return nil
	}
	return c.Close()
}

// GoString is what %#v prints: the address with the password masked, so
// that no format verb shows the password.
func (t *Transport) GoString() string { return "&redis.Transport{addr: " + strconv.Quote(t.addr) + "}" }

// tlsDialer dials TLS like go-redis's default dialer, except that the
// handshake too ends when the dial's context does (so Close or a caller's
// context stops it at once).
func tlsDialer(timeout time.Duration, cfg *tls.Config) func(context.Context, string, string) (net.Conn, error) {
	d := &tls.Dialer{
		NetDialer: &net.Dialer{Timeout: timeout, KeepAliveConfig: net.KeepAliveConfig{
			Enable: true, Idle: 30 * time.Second, Interval: 5 * time.Second, Count: 3}},
		Config: cfg,
	}
	return d.DialContext
}

func newTransport(client goredis.UniversalClient, cfg Config) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Transport{
		client: client,
		cfg:    cfg.withDefaults(),
		done:   make(chan struct{}),
		subs:   map[*subscription]struct{}{},
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	t.initStreams()
	_, t.cluster = client.(*goredis.ClusterClient)
	t.pipe.init(t)
	if o := standaloneOptions(client); o != nil && t.cfg.Mode == ModePubSub {
		t.cp = newConnPipe(t, o)
		t.addTap()
	}
	return t, nil
}

// describe returns a printable address for client and its password.
func describe(client goredis.UniversalClient) (addr, secret string) {
	switch c := client.(type) {
	case *goredis.Client:
		o := c.Options()
		return "redis://" + o.Addr, o.Password
	case *goredis.ClusterClient:
		o := c.Options()
		return "redis-cluster://" + strings.Join(o.Addrs, ","), o.Password
	}
	return fmt.Sprintf("redis(%T)", client), ""
}

// String returns the Redis address with any password hidden.
func (t *Transport) String() string { return t.addr }

// Client returns the go-redis client the Transport uses.
func (t *Transport) Client() goredis.UniversalClient { return t.client }

// Capabilities reports: not persistent, no headers (the payload goes on the
// wire as is), ordered, and the configured MaxPayload. In ModeStreams and
// ModeDual, Subscribe reads streams, which keep messages and headers:
// persistent (a subscription replays from StreamsConfig.Start, all that
// the stream holds by default; see SubscribeFrom), with headers.
func (t *Transport) Capabilities() transport.Capabilities {
	if t.cfg.Mode != ModePubSub {
		return transport.Capabilities{Persistent: true, Headers: true, Ordered: true, MaxPayload: t.cfg.MaxPayload}
	}
	return transport.Capabilities{Persistent: false, Headers: false, Ordered: true, MaxPayload: t.cfg.MaxPayload}
}

// Ping checks that Redis answers. A success ends a fail-fast period early.
func (t *Transport) Ping(ctx context.Context) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := t.client.Ping(ctx).Err(); err != nil {
		return t.mapErr(ctx, err)
	}
	t.markUp()
	return nil
}

// Close ends every subscription, stops the health check and, when Open
// built the client, closes it. It is idempotent. Publish calls waiting on a
// publish connection return transport.ErrClosed. Close does not wait for a publish connection
// being dialled: the dial is cancelled, and one whose dialer ignores its
// context (go-redis's default TLS dialer, on a client given to [New])
// closes its connection itself when it returns, within the dial timeout.
// In streams and dual mode it waits for each subscription's read in
// progress to return (about a second: a read blocks that long; on a link
// that stalls, up to ReadTimeout more) before it closes the client;
// CloseContext bounds that wait.
func (t *Transport) Close() error {
	return t.CloseContext(context.Background())
}

// CloseContext is Close, with its waits bounded by ctx: for stream
// subscriptions' reads in progress to return and for their consumer
// group acknowledgements to be sent. When ctx ends first, an owned client
// is closed at once, which cuts the reads still blocked, and CloseContext
// returns once they have returned; unacknowledged entries are delivered
// again to the group. It implements transport.ContextCloser.
func (t *Transport) CloseContext(ctx context.Context) error {
	if t.closed.Swap(true) {
		return nil
	}
	// A markDown that saw the Transport open has started its health check
	// (t.wg.Add under hmu) by the time this lock is taken: t.wg.Wait below
	// waits for it; later ones start none.
	t.hmu.Lock()
	t.hmu.Unlock()
	close(t.done)
	t.cancel()
	t.smu.Lock()
	subs := make([]*subscription, 0, len(t.subs))
	for s := range t.subs {
		subs = append(subs, s)
	}
	t.smu.Unlock()
	for _, s := range subs {
		_ = s.Close()
	}
	t.stopStreamReaders(ctx)
	if t.cp != nil {
		t.cp.close()
	}
	t.wg.Wait()
	if t.owned {
		// Closing go-redis's pool under a command in flight makes go-redis
		// log ("Unexpected conn state changed by hook to CLOSED") when the
		// command returns its connection: let the readers finish first.
		t.waitReaders(ctx)
		if err := t.client.Close(); err != nil && !errors.Is(err, goredis.ErrClosed) {
			t.streams.readers.Wait()
			return fmt.Errorf("%s: close: %w", t.addr, t.scrub(err))
		}
	}
	t.streams.readers.Wait()
	return nil
}
