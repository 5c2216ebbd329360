package bridge

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub/internal/backoff"
	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/sendq"
	"github.com/eventpub/eventpub/transport"
)

// Stats are a bridge's counters. Received = Relayed + Dropped + Failed +
// Queued holds in every snapshot.
type Stats struct {
	// Received counts the messages read from the source and taken for
	// relaying.
	Received uint64
	// Relayed counts the messages the target accepted.
	Relayed uint64
	// Dropped counts the messages the overflow policy discarded, and under
	// Block one still waiting for room when Stop began.
	Dropped uint64
	// Failed counts the messages the target refused for good (too large,
	// invalid channel, target closed), and those still queued when Stop
	// gave up.
	Failed uint64
	// Queued counts the messages waiting or being sent now (under Block,
	// one waiting for room included).
	Queued uint64
}

// Bridge relays messages from one transport to another. It is safe for
// concurrent use. A Bridge runs once: after Stop it cannot be started again.
type Bridge struct {
	from, to transport.Transport
	cfg      config
	q        atomic.Pointer[sendq.Queue] // set by Start

	mu      sync.Mutex
	started bool
	stopped bool
	stopErr error

	sub        transport.Subscription
	recvCancel context.CancelFunc // ends the receiver's Next and a blocked publish
	recvDone   chan struct{}

	done     chan struct{} // closed once receiving has ended
	doneOnce sync.Once
	errMu    sync.Mutex
	srcErr   error // why the source ended, when it did on its own; set before done closes
}

// New returns a bridge from one transport to another; Start or Run sets it
// going. It fails when a transport is nil or an option is out of range. The
// bridge does not own the transports: Stop leaves them open.
func New(from, to transport.Transport, opts ...Option) (*Bridge, error) {
	if from == nil || to == nil {
		return nil, errors.New("bridge: New needs a source and a target transport; one is nil")
	}
	cfg := defaultConfig()
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &Bridge{from: from, to: to, cfg: cfg, done: make(chan struct{})}, nil
}

// Start subscribes to names on the source (channels, or patterns with
// WithPatterns) and starts relaying. Delivery from the source has begun when
// it returns; ctx bounds only the subscribing. Call Stop to end.
func (b *Bridge) Start(ctx context.Context, names ...string) error {
	if ctx == nil {
		return errors.New("bridge: Start was given a nil context")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.stopped:
		return errors.New("bridge: Start after Stop; a Bridge runs once")
	case b.started:
		return errors.New("bridge: already started")
	case len(names) == 0:
		what := "channel"
		if b.cfg.patterns {
			what = "pattern"
		}
		return transport.Invalid(transport.ErrInvalidChannel, "bridge: Start needs at least one %s", what)
	}
	var sub transport.Subscription
	var err error
	if b.cfg.patterns {
		ps, ok := b.from.(transport.PatternSubscriber)
		if !ok {
			return fmt.Errorf("bridge: the source %T cannot subscribe to patterns (it does not implement transport.PatternSubscriber)", b.from)
		}
		sub, err = ps.SubscribePattern(ctx, names...)
	} else {
		sub, err = b.from.Subscribe(ctx, names...)
	}
	if err != nil {
		return fmt.Errorf("bridge: subscribing to the source: %w", err)
	}
	q, err := sendq.New(b.to, sendq.Config{
		Capacity:     b.cfg.capacity,
		Policy:       b.cfg.overflow,
		Observer:     observe.Multi(b.cfg.observers...),
		ErrorHandler: b.cfg.onError,
	})
	if err != nil {
		_ = sub.Close()
		return fmt.Errorf("bridge: %w", err)
	}
	b.q.Store(q)
	b.started = true
	b.sub = sub
	recvCtx, recvCancel := context.WithCancel(context.Background())
	b.recvCancel = recvCancel
	b.recvDone = make(chan struct{})
	go b.receive(recvCtx, q)
	return nil
}

// Run starts the bridge like Start, relays until ctx ends or the source is
// closed, then stops like Stop, sending what is queued for up to the drain
// timeout (WithDrainTimeout). It returns nil after a clean stop.
func (b *Bridge) Run(ctx context.Context, names ...string) error {
	if err := b.Start(ctx, names...); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
	case <-b.done:
	}
	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), b.cfg.drainTimeout)
	defer cancel()
	err := b.Stop(stopCtx)
	return errors.Join(b.sourceErr(), err)
}

// Done is closed once the bridge has stopped reading the source: after Stop,
// or when the source subscription was closed (Err then says so).
func (b *Bridge) Done() <-chan struct{} { return b.done }

// Err returns why the source ended on its own, once Done is closed, or nil.
func (b *Bridge) Err() error {
	select {
	case <-b.done:
		return b.sourceErr()
	default:
		return nil
	}
}

func (b *Bridge) sourceErr() error {
	b.errMu.Lock()
	defer b.errMu.Unlock()
	return b.srcErr
}

// Stats returns a consistent snapshot of the counters; all are zero before
// Start.
func (b *Bridge) Stats() Stats {
	q := b.q.Load()
	if q == nil {
		return Stats{}
	}
	m := q.Counters()
	return Stats{Received: m.Accepted, Relayed: m.Published, Dropped: m.Dropped, Failed: m.Failed, Queued: m.Queued}
}

// Stop stops reading the source, sends what is queued until that is done or
// ctx ends, and returns once every goroutine of the bridge has ended. What
// is still queued when ctx ends is counted as failed, and the error says
// how many messages that was and wraps ctx.Err(). The transports stay open.
// Stop is idempotent; later calls return the first one's result.
func (b *Bridge) Stop(ctx context.Context) error {
	if ctx == nil {
		return errors.New("bridge: Stop was given a nil context; the bridge keeps running")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.stopped {
		return b.stopErr
	}
	b.stopped = true
	b.closeDone()
	if !b.started {
		return nil
	}
	b.recvCancel()
	_ = b.sub.Close()
	<-b.recvDone
	if lost := b.q.Load().Close(ctx); lost > 0 {
		b.stopErr = fmt.Errorf("bridge: stopped with %d messages not relayed: %w", lost, ctx.Err())
	}
	return b.stopErr
}

func (b *Bridge) closeDone() { b.doneOnce.Do(func() { close(b.done) }) }

// receive hands what the source delivers to q until ctx ends or the
// source subscription is closed.
func (b *Bridge) receive(ctx context.Context, q *sendq.Queue) {
	defer close(b.recvDone)
	wait := backoff.New(sourceBackoffMin, sourceBackoffMax)
	for {
		m, err := b.sub.Next(ctx)
		if err == nil {
			wait.Reset()
			// A drop is counted and reported by the queue; ctx ends only
			// when Stop begins.
			if err := q.Push(ctx, m); err != nil && !errors.Is(err, sendq.ErrQueueFull) && ctx.Err() == nil {
				q.Reporter().Report(fmt.Errorf("bridge: a message on %q from the source was not relayed: %w", m.Channel, err))
			}
			continue
		}
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, transport.ErrClosed) {
			b.errMu.Lock()
			b.srcErr = fmt.Errorf("bridge: the source subscription ended: %w", err)
			b.errMu.Unlock()
			b.closeDone()
			return
		}
		d := wait.Next()
		q.Reporter().Retrying(fmt.Errorf("bridge: reading the source (retrying in %v): %w", d, err))
		if !sleep(ctx.Done(), d) {
			return
		}
	}
}

// sleep waits d or until stop is closed; it reports whether d passed.
func sleep(stop <-chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stop:
		return false
	}
}
