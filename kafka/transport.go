package kafka

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub/transport"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Transport is the Kafka driver. It implements transport.Transport and
// transport.BatchPublisher. All methods are safe for concurrent use.
type Transport struct {
	cfg      Config
	cl       *kgo.Client        // producer and admin requests
	clCancel context.CancelFunc // ends cl's context: see closeClient
	adm      *kadm.Client

	closed     atomic.Bool
	life       context.Context // ends on Close
	lifeCancel context.CancelFunc

	// state is whether some broker answers, as the last check found; it
	// is replaced (under stateMu) on every change and read without a lock.
	stateMu sync.Mutex
	state   atomic.Pointer[linkState]
	probing atomic.Bool    // a background check is running
	wg      sync.WaitGroup // the background check

	topics topicCache

	mu   sync.Mutex
	subs map[*subscription]struct{}
}

var (
	_ transport.Transport      = (*Transport)(nil)
	_ transport.BatchPublisher = (*Transport)(nil)
	_ transport.ContextCloser  = (*Transport)(nil)
)

// Connect opens a Transport from a whole Config, as Open does from a URL.
// It does not fail because no broker answers: it makes one check (bounded
// by ConnectTimeout and ctx) and, when that fails, returns a Transport that
// keeps checking in the background while Publish fails with
// ErrUnavailable. It fails for bad settings, with ErrAuth when a broker
// refuses the credentials or TLS, and with ctx's error when ctx ends
// during the check.
func Connect(ctx context.Context, cfg Config) (*Transport, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	t := &Transport{cfg: cfg, subs: map[*subscription]struct{}{}}
	t.life, t.lifeCancel = context.WithCancel(context.Background())
	t.topics.m = map[string]*topicEntry{}
	t.state.Store(newLinkState(false))
	var clCtx context.Context
	clCtx, t.clCancel = context.WithCancel(context.Background())
	opts := append(cfg.clientOptions(),
		kgo.WithContext(clCtx),
		kgo.WithHooks(hooks{t}),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchMaxBytes(cfg.MaxRecordBatchBytes),
		kgo.RecordDeliveryTimeout(cfg.PublishTimeout),
		kgo.ProduceRequestTimeout(cfg.PublishTimeout),
		kgo.ProducerLinger(0),
		kgo.MaxBufferedRecords(1<<20),
		kgo.UnknownTopicRetries(-1), // the driver creates or checks topics itself
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.lifeCancel()
		t.clCancel()
		return nil, t.cfg.scrub(err)
	}
	t.cl, t.adm = cl, kadm.NewClient(cl)
	pctx, cancel := context.WithTimeout(ctx, cfg.ConnectTimeout)
	err = cl.Ping(pctx)
	cancel()
	switch {
	case err == nil:
		t.setUp()
	case isAuthErr(err):
		_ = t.Close()
		return nil, &authError{msg: ErrAuth.Error() + " on " + cfg.brokerList() + ": " + cfg.scrub(err).Error(), cause: cfg.scrub(err)}
	case ctx.Err() != nil:
		_ = t.Close()
		return nil, ctx.Err()
	default:
		t.suspect() // keeps checking in the background
	}
	return t, nil
}

// clientOptions are the franz-go options every client of the transport
// (the producer and each consumer) shares.
func (c *Config) clientOptions() []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.ClientID(c.ClientID),
		kgo.Dialer(c.dialer()),
		kgo.RetryBackoffFn(func(tries int) time.Duration {
			return min(50*time.Millisecond<<min(tries, 5), time.Second)
		}),
		kgo.MetadataMinAge(250 * time.Millisecond),
	}
	if m := c.saslMechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts
}

// dialer dials with Config.Dial or a net.Dialer, then TLS when configured.
func (c *Config) dialer() func(ctx context.Context, network, host string) (net.Conn, error) {
	base := c.Dial
	if base == nil {
		d := &net.Dialer{Timeout: c.ConnectTimeout}
		base = d.DialContext
	}
	timeout, tlsCfg := c.ConnectTimeout, c.TLS
	return func(ctx context.Context, network, host string) (net.Conn, error) {
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		conn, err := base(ctx, network, host)
		if err != nil || tlsCfg == nil {
			return conn, err
		}
		cfg := tlsCfg.Clone()
		if cfg.ServerName == "" {
			if h, _, err := net.SplitHostPort(host); err == nil {
				cfg.ServerName = h
			}
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		return tc, nil
	}
}

func (c *Config) saslMechanism() sasl.Mechanism {
	if c.User == "" {
		return nil
	}
	switch c.SASL {
	case SASLScramSHA256:
		return scram.Auth{User: c.User, Pass: c.Password}.AsSha256Mechanism()
	case SASLScramSHA512:
		return scram.Auth{User: c.User, Pass: c.Password}.AsSha512Mechanism()
	}
	return plain.Auth{User: c.User, Pass: c.Password}.AsMechanism()
}

// hooks hears of broker connections coming and going, to check at once
// whether the cluster is still there.
type hooks struct{ t *Transport }

func (h hooks) OnBrokerConnect(_ kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil {
		h.t.suspect()
	}
}

func (h hooks) OnBrokerDisconnect(kgo.BrokerMetadata, net.Conn) { h.t.suspect() }

// linkState is one state of the link to the cluster.
type linkState struct {
	up bool
	// ctx is what records are produced with while up; it is cancelled
	// when the cluster is found down, which makes franz-go fail the
	// records it has not sent.
	ctx    context.Context
	cancel context.CancelFunc
	down   chan struct{} // closed when the cluster is found down
}

func newLinkState(up bool) *linkState {
	ls := &linkState{up: up, down: make(chan struct{})}
	ls.ctx, ls.cancel = context.WithCancel(context.Background())
	if !up {
		close(ls.down)
		ls.cancel()
	}
	return ls
}

// isUp reports whether the last check found a broker answering.
func (t *Transport) isUp() bool { return t.state.Load().up }

func (t *Transport) setUp() {
	t.stateMu.Lock()
	defer t.stateMu.Unlock()
	if !t.state.Load().up && !t.closed.Load() {
		t.state.Store(newLinkState(true))
	}
}

func (t *Transport) setDown() {
	t.stateMu.Lock()
	defer t.stateMu.Unlock()
	if old := t.state.Load(); old.up {
		t.state.Store(newLinkState(false))
		close(old.down)
		old.cancel()
	}
}

// suspect starts a background check, unless one is running, of whether
// any broker answers. While none does it marks the transport down and
// checks again with a capped backoff until one answers.
func (t *Transport) suspect() {
	if !t.probing.CompareAndSwap(false, true) {
		return
	}
	t.mu.Lock() // Close sets closed under mu, then waits for wg
	if t.closed.Load() {
		t.mu.Unlock()
		t.probing.Store(false)
		return
	}
	t.wg.Add(1)
	t.mu.Unlock()
	go func() {
		defer t.wg.Done()
		defer t.probing.Store(false)
		wait := 50 * time.Millisecond
		for {
			ctx, cancel := context.WithTimeout(t.life, t.cfg.ConnectTimeout)
			err := t.cl.Ping(ctx)
			cancel()
			if err == nil {
				t.setUp()
				return
			}
			t.setDown()
			timer := time.NewTimer(wait)
			select {
			case <-t.life.Done():
				timer.Stop()
				return
			case <-timer.C:
			}
			wait = min(2*wait, time.Second)
		}
	}()
}

// downErr says why nothing can be sent now.
func (t *Transport) downErr() error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	return transport.Unavailable(errDown)
}

// Client returns the franz-go client the transport produces with, e.g. for
// metrics. Do not close it.
func (t *Transport) Client() *kgo.Client { return t.cl }

// maxPayload is the largest payload a message without headers may carry:
// the record batch limit less the batch and record framing and the longest
// key (the channel name).
func (t *Transport) maxPayload() int {
	return int(t.cfg.MaxRecordBatchBytes) - batchOverhead - recordOverhead - transport.MaxChannelLen
}

// Capabilities: Kafka keeps every message; a Subscription replays the
// topic only with FromStart, so Persistent says whether it does. Records
// are keyed by channel, so one channel's messages stay in one partition,
// in order.
func (t *Transport) Capabilities() transport.Capabilities {
	return transport.Capabilities{
		Persistent: t.cfg.From == FromStart,
		Headers:    true,
		Ordered:    true,
		MaxPayload: t.maxPayload(),
	}
}

// Ping checks that a broker answers (one metadata round trip).
func (t *Transport) Ping(ctx context.Context) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !t.isUp() {
		t.suspect()
		return t.downErr()
	}
	ctx, cancel := t.bound(ctx)
	defer cancel()
	err := t.cl.Ping(ctx)
	if err != nil {
		t.suspect()
	}
	return t.classify(ctx, err)
}

// bound gives ctx the PublishTimeout when it has no deadline.
func (t *Transport) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, t.cfg.PublishTimeout)
}

// Close is CloseContext with no deadline of the caller's: waiting for
// the acknowledgements of records on their way is bounded by
// PublishTimeout, leaving a group by ConnectTimeout.
func (t *Transport) Close() error { return t.CloseContext(context.Background()) }

// CloseContext ends every Subscription and closes the franz-go clients,
// implementing transport.ContextCloser. It first waits (up to
// PublishTimeout) for the acknowledgements of records on their way, so
// that a Publish in flight gets its verdict; a Publish still waiting when
// that wait ends fails with transport.ErrClosed (its message may still
// have reached the broker). Every wait (that flush, committing offsets
// and leaving the group, the clients' own shutdown: a last metrics push,
// closing fetch sessions) ends when ctx does, and everything is released
// all the same: with a done ctx it waits for nothing. It is idempotent.
func (t *Transport) CloseContext(ctx context.Context) error {
	t.mu.Lock()
	if t.closed.Swap(true) {
		t.mu.Unlock()
		return nil
	}
	subs := make([]*subscription, 0, len(t.subs))
	for s := range t.subs {
		subs = append(subs, s)
	}
	t.subs = nil
	t.mu.Unlock()
	if ctx.Err() == nil && t.isUp() {
		fctx, cancel := context.WithTimeout(ctx, t.cfg.PublishTimeout)
		_ = t.cl.Flush(fctx) // a failure leaves records to fail on Close below
		cancel()
	}
	t.lifeCancel()
	for _, s := range subs {
		s.closeContext(ctx)
	}
	t.wg.Wait() // the background check: its Ping ends with t.life
	closeClient(ctx, t.cl, t.clCancel)
	t.setDown()
	return nil
}

// closeClient closes cl, which was made with kgo.WithContext on a context
// that cancel ends. kgo.Client.Close takes no context and may wait (for
// the group to be left, a last client-metrics push, fetch sessions to
// close, requests in flight); once ctx ends, cancelling cl's context
// fails those waits at once, and Close still stops every goroutine of cl
// and fails the records it holds before it returns.
func closeClient(ctx context.Context, cl *kgo.Client, cancel context.CancelFunc) {
	if ctx.Err() != nil {
		cancel()
	}
	stop := context.AfterFunc(ctx, cancel)
	cl.Close()
	stop()
	cancel()
}

func (t *Transport) track(s *subscription) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.subs == nil {
		return false
	}
	t.subs[s] = struct{}{}
	return true
}

func (t *Transport) untrack(s *subscription) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.subs != nil {
		delete(t.subs, s)
	}
}

// GoString is String, so %#v shows no password either.
func (t *Transport) GoString() string { return t.String() }

// String describes the transport without secrets.
func (t *Transport) String() string {
	return "kafka(" + strings.Join(t.cfg.Brokers, ",") + ", mapping=" + t.cfg.Mapping.String() + ")"
}
