package dashboard

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub/internal/jsonenc"
	"github.com/eventpub/eventpub/transport"
)

// Relay forwards the logs, events and stats channels of a transport to
// browsers. It is an http.Handler; see the package doc for its endpoints.
// All methods are safe for concurrent use.
type Relay struct {
	t        transport.Transport
	cfg      config
	hub      *hub
	logs     string // the namespaced channel names
	events   string
	stats    string
	mux      *httpMux
	relayed  atomic.Uint64
	brokerUp atomic.Int32 // 0 unknown, 1 up, 2 down

	mu        sync.Mutex
	started   bool
	closed    bool
	wg        sync.WaitGroup // the relay's goroutines and its open connections
	base      context.Context
	ready     chan struct{} // closed once the first subscription is live
	readyOnce sync.Once
	stop      context.CancelFunc
}

// Stats counts what the relay did.
type Stats struct {
	// Clients is how many WebSocket and event-stream clients are connected.
	Clients int
	// Relayed counts messages received from the broker and sent on.
	Relayed uint64
	// SlowDropped counts clients disconnected as too slow: their buffer
	// filled, or one write took longer than the write timeout.
	SlowDropped uint64
	// BrokerUp is false while the last check of the broker failed (and
	// before the first one ended).
	BrokerUp bool
}

// New returns a relay over t. It does not read from t until Start; it
// never closes t. A bad option is an error naming every problem.
func New(t transport.Transport, opts ...Option) (*Relay, error) {
	if t == nil {
		return nil, errors.New("eventpub/dashboard: nil transport")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	r := &Relay{
		t: t, cfg: cfg,
		logs: cfg.channel("logs"), events: cfg.channel("events"), stats: cfg.channel("stats"),
		hub: newHub(cfg.history, string(jsonenc.AppendString(nil, cfg.channel("history")))),
	}
	r.base, r.stop = context.WithCancel(context.Background())
	r.ready = make(chan struct{})
	r.mux = newMux(r)
	return r, nil
}

// Start subscribes to the three channels in the background and begins
// checking the broker link. A broker that is down is not an error: the
// relay retries, and the page shows the link as down until it returns.
// Start fails only when the relay was started before or is closed.
func (r *Relay) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return transport.ErrClosed
	case r.started:
		return errors.New("eventpub/dashboard: relay already started")
	}
	r.started = true
	r.wg.Add(3)
	go r.subscribeLoop()
	go r.linkLoop()
	go r.watchLoop()
	return nil
}

// Ready returns a channel that is closed once the relay's first
// subscription to the broker is live: from then on the messages published
// on its channels reach it, as far as the transport delivers them. Until
// then, a message published after Start may be missed. The channel stays
// open while the broker cannot be reached, and for good when the relay is
// never started or is closed before it subscribes, so wait on it with a
// timeout or beside another channel.
func (r *Relay) Ready() <-chan struct{} { return r.ready }

// Close disconnects every client, stops reading from the broker and waits
// for the relay's goroutines and connections to end. It does not close the
// transport. It is idempotent.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	r.mu.Unlock()
	r.stop()
	r.hub.close()
	r.wg.Wait()
	return nil
}

// Stats returns the relay's counters.
func (r *Relay) Stats() Stats {
	clients, slow := r.hub.counts()
	return Stats{Clients: clients, Relayed: r.relayed.Load(), SlowDropped: slow, BrokerUp: r.brokerUp.Load() == 1}
}

// track counts a connection in the relay's WaitGroup; it is false once the
// relay is closed.
func (r *Relay) track() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.wg.Add(1)
	return true
}

// subscribeLoop reads the channels and broadcasts each message, subscribing
// again with backoff when the subscription fails.
func (r *Relay) subscribeLoop() {
	defer r.wg.Done()
	ctx := r.base
	backoff := subscribeBackoffMin
	var lastErr string
	for ctx.Err() == nil {
		sub, err := r.t.Subscribe(ctx, r.logs, r.events, r.stats)
		if err == nil {
			r.readyOnce.Do(func() { close(r.ready) })
			backoff = subscribeBackoffMin
			err = r.pump(ctx, sub)
			_ = sub.Close()
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, transport.ErrClosed) {
			r.cfg.logger.Error("dashboard: the transport was closed; relaying stopped")
			return
		}
		if msg := err.Error(); msg != lastErr {
			r.cfg.logger.Warn("dashboard: subscription failed; subscribing again", "err", msg)
			lastErr = msg
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, subscribeBackoffMax)
	}
}

// pump broadcasts the subscription's messages until it fails.
func (r *Relay) pump(ctx context.Context, sub transport.Subscription) error {
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return err
		}
		keep := m.Channel == r.logs || m.Channel == r.events
		r.hub.broadcast(appendFrame(nil, m.Channel, m.Payload), keep)
		r.relayed.Add(1)
	}
}

// Broker-state frames. They carry no channel, so a CodeWorm frontend,
// which reads only frames with one, ignores them.
var (
	frameBrokerUp   = []byte(`{"type":"broker","state":"up"}`)
	frameBrokerDown = []byte(`{"type":"broker","state":"down"}`)
	framePong       = []byte(`{"type":"pong"}`)
)

// linkLoop pings the broker, logs each change of the link's state and
// tells the clients.
func (r *Relay) linkLoop() {
	defer r.wg.Done()
	ctx := r.base
	tick := time.NewTicker(r.cfg.linkCheck)
	defer tick.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, r.cfg.linkCheck)
		err := r.t.Ping(pctx)
		cancel()
		if ctx.Err() != nil {
			return
		}
		was := r.brokerUp.Load()
		switch {
		case err == nil && was != 1:
			r.brokerUp.Store(1)
			if was == 2 {
				r.cfg.logger.Info("dashboard: broker link is back")
			}
			r.hub.setState(frameBrokerUp)
		case err != nil && was != 2:
			r.brokerUp.Store(2)
			r.cfg.logger.Warn("dashboard: broker link is down", "err", err.Error())
			r.hub.setState(frameBrokerDown)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// watchLoop drops the clients whose write has taken longer than the
// write timeout.
func (r *Relay) watchLoop() {
	defer r.wg.Done()
	tick := time.NewTicker(max(r.cfg.writeTimeout/4, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-r.base.Done():
			return
		case now := <-tick.C:
			r.hub.dropStuck(now.Add(-r.cfg.writeTimeout))
		}
	}
}

// appendFrame appends the frame CodeWorm's relay sends for a message:
// {"channel":CHANNEL,"data":PAYLOAD} with the payload as orjson writes it
// back, or {"channel":CHANNEL,"data":{"raw":TEXT}} when orjson would not
// read it.
func appendFrame(dst []byte, channel string, payload []byte) []byte {
	dst = append(dst, `{"channel":`...)
	dst = jsonenc.AppendString(dst, channel)
	dst = append(dst, `,"data":`...)
	var err error
	if dst, err = jsonenc.Reencode(dst, payload, 1); err != nil {
		dst = append(dst, `{"raw":`...)
		dst = jsonenc.AppendString(dst, string(payload))
		dst = append(dst, '}')
	}
	return append(dst, '}')
}
