package nats

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The Transport: its state, New, Capabilities, Ping, Flush and Close.
// Publishing is in publish.go and jetstream.go, link state in link.go.

// Transport is the NATS driver. It implements transport.Transport,
// transport.BatchPublisher, transport.BatchStarter, transport.Flusher and
// transport.PatternSubscriber. All methods are
// safe for concurrent use.
type Transport struct {
	cfg   Config
	nc    *natsgo.Conn
	owned bool // Close closes nc
	js    jetstream.JetStream

	// gate holds the reasons a publish cannot simply go ahead, one bit
	// each (gateDown, gateSuspect, gateClosed, gateFull): Publish's short
	// path reads this one word. The link bits are kept here alone; closed
	// below stays the word the rest of the driver reads.
	gate atomic.Uint32
	// flushedReconnects is the connection's reconnect count at the last
	// Flush that succeeded (see Flush).
	flushedReconnects atomic.Uint64
	// coreBatches counts the core batches StartBatch has handed to
	// nats.go; coreFlushed is the last of them a Flush has confirmed.
	coreBatches, coreFlushed atomic.Uint64
	// quit ends the background probe when Close begins.
	quit   context.Context
	cancel context.CancelFunc
	down   atomic.Pointer[chan struct{}] // closed when the connection drops
	maxPay atomic.Int64                  // last known max_payload
	closed atomic.Bool
	// abandon is closed when Close stops waiting for JetStream acks: a
	// publish still waiting then fails with ErrClosed.
	abandon chan struct{}
	sendMu  sync.RWMutex // held by sendJS; Close takes it once to wait for those

	statusCh   chan natsgo.Status
	watchWG    sync.WaitGroup
	status     atomic.Int32   // the connection's status as the watcher last saw it
	stateMu    sync.Mutex     // serializes refreshState
	probing    atomic.Bool    // a link probe is running
	rechecking atomic.Bool    // a status recheck is running
	probeWG    sync.WaitGroup // the link probe and the status recheck

	streams  streamCache  // JetStream: which stream holds each subject
	acks     jsAcks       // JetStream: the batches awaiting acks
	subjects subjectCache // channels checked and mapped already

	mu   sync.Mutex
	subs map[*subscription]struct{}
	// stopping holds, for each closed Subscription whose JetStream
	// consumers are still stopping, a channel closed once they have.
	stopping map[chan struct{}]struct{}
}

var (
	_ transport.Transport         = (*Transport)(nil)
	_ transport.BatchPublisher    = (*Transport)(nil)
	_ transport.BatchStarter      = (*Transport)(nil)
	_ transport.PatternSubscriber = (*Transport)(nil)
)

// New builds a Transport on a connection the caller made and keeps owning:
// Close leaves nc open. Options that shape the connection itself (servers,
// auth, TLS, reconnect buffer) are ignored; configure nc instead. In
// JetStream mode the stream is created or checked now when nc is connected,
// else on first use.
func New(nc *natsgo.Conn, opts ...Option) (*Transport, error) {
	if nc == nil {
		return nil, errors.New("eventpub/nats: New needs a *nats.Conn")
	}
	var cfg Config
	for _, o := range opts {
		o(&cfg)
	}
	return newTransport(nc, cfg, false)
}

func newTransport(nc *natsgo.Conn, cfg Config, owned bool) (*Transport, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if nc.IsClosed() {
		return nil, transport.Unavailable(natsgo.ErrConnectionClosed)
	}
	t := &Transport{cfg: cfg, nc: nc, owned: owned, abandon: make(chan struct{}),
		subs: map[*subscription]struct{}{}, stopping: map[chan struct{}]struct{}{}}
	t.gate.Store(gateDown) // until refreshState sees it CONNECTED
	if cfg.JetStream != nil || cfg.Flush {
		t.gate.Or(gateFull)
	}
	t.quit, t.cancel = context.WithCancel(context.Background())
	ch := make(chan struct{})
	t.down.Store(&ch)
	t.statusCh = nc.StatusChanged()
	t.refreshState(nc.Status())
	t.watchWG.Add(1)
	go t.watch()
	if cfg.JetStream != nil {
		js, err := jetstream.New(nc)
		if err != nil {
			t.stopWatch()
			return nil, t.classify(nil, err)
		}
		t.js = js
		if t.isUp() {
			ctx, cancel := context.WithTimeout(context.Background(), cfg.PublishTimeout)
			err := t.ensureStream(ctx)
			cancel()
			if err != nil && !errors.Is(err, transport.ErrUnavailable) {
				t.stopWatch()
				return nil, err
			}
		}
	}
	return t, nil
}

// Conn returns the underlying connection, e.g. for metrics. Do not close it.
// A connection Open made does not check the subjects published on it (the
// driver checks every channel before it publishes); see the package doc.
func (t *Transport) Conn() *natsgo.Conn { return t.nc }

// Capabilities: core NATS is at most once and keeps nothing. JetStream
// stores every message, and its subscriptions replay them unless
// JetStreamConfig.Start is StartNew, so it is Persistent then.
func (t *Transport) Capabilities() transport.Capabilities {
	mp := t.maxPay.Load()
	if cur := t.nc.MaxPayload(); cur > 0 {
		mp = cur
	}
	return transport.Capabilities{
		Persistent: t.js != nil && t.cfg.JetStream.Start == StartAll,
		Headers:    true,
		Ordered:    true,
		MaxPayload: int(mp),
	}
}

// Ping checks that the server answers (one round trip).
func (t *Transport) Ping(ctx context.Context) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if !t.connected() {
		return t.downErr()
	}
	return t.classify(ctx, t.flush(ctx))
}

// flush waits until the server has processed everything sent so far, or the
// connection drops, or ctx (or PublishTimeout when ctx has no deadline) ends.
// nats.go's own flush would wait through a reconnect for its PONG; the
// driver's drop signal ends it with ErrUnavailable instead.
func (t *Transport) flush(ctx context.Context) error {
	down := *t.down.Load()
	if isClosedChan(down) {
		return transport.Unavailable(errDown)
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if _, ok := ctx.Deadline(); !ok {
		fctx, cancel = context.WithTimeout(fctx, t.cfg.PublishTimeout)
		defer cancel()
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		select {
		case <-down:
			cancel()
		case <-stop:
		}
	}()
	err := t.nc.FlushWithContext(fctx)
	if err != nil && ctx.Err() == nil && isClosedChan(down) {
		return transport.Unavailable(fmt.Errorf("%w before the server answered", errDown))
	}
	return err
}

// Close ends every subscription, sends what nats.go still buffers and, when
// the Transport opened the connection, closes it. It is idempotent. It is
// CloseContext with no deadline of the caller's: each of its waits below is
// bounded by PublishTimeout.
//
// A JetStream publish still waiting for its ack then fails with
// transport.ErrClosed (Close first waits up to PublishTimeout for acks on
// their way). Close waits for JetStream subscriptions to stop. On a
// connection the caller passed to New, which stays open, it waits up to
// PublishTimeout: while that connection is down, nats.go can hold a
// consumer in a reset until its own request (10 s) and backoff end or the
// connection comes back, and such a consumer finishes stopping on its own
// after Close returns. It delivers nothing more.
func (t *Transport) Close() error { return t.CloseContext(context.Background()) }

// CloseContext is Close whose waits (for acks on their way, consumers to
// stop, the final flush) also end when ctx ends (transport.ContextCloser);
// with a done ctx it waits for none of them and closes at once. What was
// not flushed then may be lost; eventpub's async queue has counted it
// already. A flush that fails is returned as transport.ErrUnavailable.
func (t *Transport) CloseContext(ctx context.Context) error {
	// The gate first: no publish on Publish's short path starts after
	// closed is set.
	t.gate.Or(gateClosed)
	t.mu.Lock() // see trackWG
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
	t.cancel() // ends a link probe under way
	for _, s := range subs {
		s.close(false) // waited for below, all at once
	}
	// down is closed once the connection drops (it already is when the
	// connection is down): no ack can arrive after that, and closing an
	// owned connection stops the consumers anyway.
	down := *t.down.Load()
	if t.js != nil {
		t.sendMu.Lock() // no async send is under way, and none starts now
		t.sendMu.Unlock()
		// Let acks that are on their way arrive before the connection goes.
		timer := time.NewTimer(t.cfg.PublishTimeout)
		t.awaitBatchAcks(ctx, timer.C, down)
		timer.Stop()
		close(t.abandon)
		if !t.owned {
			// Drop the reply subscription for acks from the caller's
			// connection; closing an owned connection below does that.
			t.stopAcks()
		}
	}
	if !t.owned {
		down = nil // the caller's connection stays open: wait for the consumers
	}
	timer := time.NewTimer(t.cfg.PublishTimeout)
	t.waitStopping(ctx, timer.C, down)
	timer.Stop()
	var err error
	if ctx.Err() == nil && t.nc.Status() == natsgo.CONNECTED && natsgo.Status(t.status.Load()) == natsgo.CONNECTED && t.isUp() {
		// t.flush ends when the link drops: a server that went away while
		// the status mirror lagged is not waited for, as one already gone
		// is not flushed at all.
		err = t.flush(ctx)
		if err != nil && (ctx.Err() != nil || isClosedChan(*t.down.Load())) {
			err = nil // the caller gave up, or the server is gone; eventpub counts the rest
		}
	}
	t.stopWatch()
	if t.owned {
		t.nc.Close()
		t.waitStopping(context.Background(), nil, nil) // the connection is gone, so consumers stop now
	}
	if err != nil {
		return t.classify(nil, err)
	}
	return nil
}

// startStopping registers a Subscription's consumers as stopping and
// returns the channel doneStopping closes.
func (t *Transport) startStopping() chan struct{} {
	ch := make(chan struct{})
	t.mu.Lock()
	t.stopping[ch] = struct{}{}
	t.mu.Unlock()
	return ch
}

func (t *Transport) doneStopping(ch chan struct{}) {
	t.mu.Lock()
	delete(t.stopping, ch)
	t.mu.Unlock()
	close(ch)
}

// waitStopping waits until every consumer has stopped, limit fires, down
// is closed (nil: no such bound) or ctx ends.
func (t *Transport) waitStopping(ctx context.Context, limit <-chan time.Time, down <-chan struct{}) {
	t.mu.Lock()
	chans := make([]chan struct{}, 0, len(t.stopping))
	for ch := range t.stopping {
		chans = append(chans, ch)
	}
	t.mu.Unlock()
	for _, ch := range chans {
		select {
		case <-ch:
		case <-limit:
			return
		case <-down:
			return
		case <-ctx.Done():
			return
		}
	}
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

// trackWG adds one to wg unless the transport is closed; Close waits for wg
// after it has set closed under mu, so no Add can race its Wait.
func (t *Transport) trackWG(wg *sync.WaitGroup) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed.Load() {
		return false
	}
	wg.Add(1)
	return true
}
