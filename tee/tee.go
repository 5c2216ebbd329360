package tee

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/transport"
)

// Transport publishes to a primary transport and its secondaries. It
// implements transport.Transport, transport.BatchPublisher and
// transport.PatternSubscriber, and is safe for concurrent use.
type Transport struct {
	cfg config
	obs observe.Observer       // WithObserver's, or nil
	rep *observe.ErrorReporter // WithErrorHandler's, or nil

	// mu is held for reading by every call that uses the targets and for
	// writing by the calls that change them, so a change waits for the
	// publishes in flight and each publish sees one set of targets.
	mu      sync.RWMutex
	targets []*target // targets[0] is the primary
	closed  bool
}

var (
	_ transport.Transport         = (*Transport)(nil)
	_ transport.BatchPublisher    = (*Transport)(nil)
	_ transport.PatternSubscriber = (*Transport)(nil)
)

// target is one transport and its counters.
type target struct {
	t      transport.Transport
	name   string // for errors and stats
	system string // transport.SystemName, for observers
	counts observe.Counters
}

func newTarget(tr transport.Transport) *target {
	return &target{t: tr, name: nameOf(tr), system: transport.SystemName(tr)}
}

// count tells tg's counters and the observer that n messages on channel
// were published (err nil) or failed.
func (t *Transport) count(tg *target, channel string, n int, err error) {
	if n == 0 {
		return
	}
	o := observe.Outcome{Channel: channel, System: tg.system, Count: n, Err: err}
	if err != nil {
		tg.counts.Failed(o)
		if t.obs != nil {
			t.obs.Failed(o)
		}
		return
	}
	tg.counts.Published(o)
	if t.obs != nil {
		t.obs.Published(o)
	}
}

// New returns a tee publishing to primary and to each of secondaries. It
// fails when a target is nil or given twice, or an option is out of range.
func New(primary transport.Transport, secondaries []transport.Transport, opts ...Option) (*Transport, error) {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.secondary != CountAndContinue && cfg.secondary != FailCall {
		return nil, fmt.Errorf("tee: unknown secondary failure policy %v (want CountAndContinue or FailCall)", cfg.secondary)
	}
	t := &Transport{cfg: cfg, obs: observe.Multi(cfg.observers...)}
	all := append([]transport.Transport{primary}, secondaries...)
	for i, tr := range all {
		if tr == nil {
			if i == 0 {
				return nil, errors.New("tee: the primary transport is nil")
			}
			return nil, fmt.Errorf("tee: secondary transport %d is nil", i-1)
		}
		if t.index(tr) >= 0 {
			return nil, fmt.Errorf("tee: transport %s is given twice", nameOf(tr))
		}
		t.targets = append(t.targets, newTarget(tr))
	}
	if h := cfg.onError; h != nil {
		t.rep = observe.NewErrorReporter(func(err error) {
			var se *secondaryError
			if errors.As(err, &se) {
				h(se.target, err)
			}
		}, errorEvery)
	}
	return t, nil
}

// Publish sends msg to every target (see the package doc for the order and
// the failure policy). The primary's error is returned unchanged.
func (t *Transport) Publish(ctx context.Context, msg transport.Message) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.ready(ctx, msg.Payload); err != nil {
		return err
	}
	n := len(t.targets)
	if n == 1 || t.cfg.sequential {
		var stack [4]error
		errs := stack[:0]
		if n > len(stack) {
			errs = make([]error, 0, n)
		}
		errs = errs[:n]
		for i, tg := range t.targets {
			errs[i] = tg.t.Publish(ctx, msg)
			if errs[0] != nil {
				break // the secondaries are not tried
			}
		}
		return t.settle(msg.Channel, errs)
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	wg.Add(n - 1)
	for i := 1; i < n; i++ {
		go publishTo(&wg, ctx, t.targets[i].t, msg, &errs[i])
	}
	errs[0] = t.targets[0].t.Publish(ctx, msg)
	wg.Wait()
	return t.settle(msg.Channel, errs)
}

func publishTo(wg *sync.WaitGroup, ctx context.Context, tr transport.Transport, msg transport.Message, err *error) {
	defer wg.Done()
	*err = tr.Publish(ctx, msg)
}

// settle counts one message's outcome per target and returns the call's
// error; mu is held.
func (t *Transport) settle(channel string, errs []error) error {
	for i, tg := range t.targets {
		if errs[i] != nil || i == 0 || !t.skipped(errs[0]) {
			t.count(tg, channel, 1, errs[i])
		}
	}
	return t.verdict(errs)
}

// PublishBatch sends msgs to every target, with PublishBatch where the
// target has it and Publish in order where not. On failure it returns a
// *transport.BatchError whose Sent counts the messages the primary surely
// has; under FailCall, the messages every target surely has.
func (t *Transport) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if len(msgs) == 0 {
		if err := t.ready(ctx, nil); err != nil {
			return &transport.BatchError{Err: err}
		}
		return nil
	}
	for i := range msgs {
		if err := t.ready(ctx, msgs[i].Payload); err != nil {
			if i > 0 || errors.Is(err, transport.ErrPayloadTooLarge) {
				err = fmt.Errorf("tee: batch message %d: %w", i, err)
			}
			return &transport.BatchError{Err: err}
		}
	}
	n := len(t.targets)
	sent := make([]int, n)
	errs := make([]error, n)
	t.each(t.cfg.sequential, func(i int, tg *target) error {
		sent[i], errs[i] = transport.PublishAll(ctx, tg.t, msgs)
		return errs[i]
	})
	for i, tg := range t.targets {
		if i > 0 && t.skipped(errs[0]) {
			continue
		}
		ok := sent[i]
		if r := transport.BatchResults(errs[i], len(msgs)); r != nil {
			ok = len(msgs) - countErrs(r) // a message refused in the middle
		}
		t.count(tg, "", ok, nil)
		t.count(tg, "", len(msgs)-ok, errs[i])
	}
	err := t.verdict(errs)
	if err == nil {
		return nil
	}
	if res := t.results(errs, len(msgs)); res != nil {
		// Every failure that counts says which messages it is about: pass
		// that on, so the caller does not send the others again.
		if first := slices.IndexFunc(res, func(e error) bool { return e != nil }); first >= 0 {
			return &transport.BatchError{Sent: first, Results: res, Err: res[first]}
		}
	}
	least := sent[0]
	if errs[0] == nil { // a secondary failed the call: count what all have
		for _, s := range sent[1:] {
			least = min(least, s)
		}
	}
	var be *transport.BatchError
	if errors.As(err, &be) && errs[0] != nil {
		err = be.Err // the primary's BatchError: keep its cause, set Sent below
	}
	return &transport.BatchError{Sent: least, Err: err}
}

// results merges the per-message results of the targets whose failure
// fails the call (the primary; under FailCall the secondaries tried too),
// or returns nil when one of them failed without giving them. mu is held.
func (t *Transport) results(errs []error, n int) []error {
	var res []error
	for i, err := range errs {
		if err == nil || (i > 0 && (t.cfg.secondary != FailCall || t.skipped(errs[0]))) {
			continue
		}
		r := transport.BatchResults(err, n)
		if r == nil {
			return nil
		}
		if res == nil {
			res = make([]error, n)
		}
		for j, e := range r {
			if e != nil && res[j] == nil {
				if i > 0 {
					e = fmt.Errorf("tee: secondary %s: %w", t.targets[i].name, e)
				}
				res[j] = e
			}
		}
	}
	return res
}

// countErrs counts the non-nil errors in errs.
func countErrs(errs []error) int {
	n := 0
	for _, e := range errs {
		if e != nil {
			n++
		}
	}
	return n
}

// ready says why a call cannot go ahead; mu is held.
func (t *Transport) ready(ctx context.Context, payload []byte) error {
	if t.closed {
		return transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if limit := t.limit(); limit > 0 && len(payload) > limit {
		return transport.Invalid(transport.ErrPayloadTooLarge,
			"payload of %d bytes is over %d, the smallest limit of the tee's targets", len(payload), limit)
	}
	return nil
}

// each runs send for every target: all at once, or in order with the
// secondaries skipped when the primary fails (sequential). The primary
// runs on the calling goroutine. mu is held.
func (t *Transport) each(sequential bool, send func(i int, tg *target) error) {
	if sequential || len(t.targets) == 1 {
		if send(0, t.targets[0]) != nil {
			return
		}
		for i := 1; i < len(t.targets); i++ {
			send(i, t.targets[i])
		}
		return
	}
	var wg sync.WaitGroup
	for i := 1; i < len(t.targets); i++ {
		wg.Go(func() { send(i, t.targets[i]) })
	}
	send(0, t.targets[0])
	wg.Wait()
}

// skipped reports whether the secondaries were not tried because the
// primary failed with primaryErr.
func (t *Transport) skipped(primaryErr error) bool {
	return primaryErr != nil && t.cfg.sequential
}

// verdict reports the secondaries' failures and returns the call's error.
func (t *Transport) verdict(errs []error) error {
	var failed error
	for i := 1; i < len(errs); i++ {
		if errs[i] == nil {
			continue
		}
		name := t.targets[i].name
		t.rep.Report(&secondaryError{target: name, err: errs[i]})
		if failed == nil {
			failed = fmt.Errorf("tee: secondary %s: %w", name, errs[i])
		}
	}
	if errs[0] != nil {
		return errs[0]
	}
	if t.cfg.secondary == FailCall {
		return failed
	}
	return nil
}

// Subscribe subscribes on the current primary.
func (t *Transport) Subscribe(ctx context.Context, channels ...string) (transport.Subscription, error) {
	p, err := t.primary()
	if err != nil {
		return nil, err
	}
	return p.Subscribe(ctx, channels...)
}

// SubscribePattern subscribes to patterns on the current primary, in its
// broker's pattern syntax. It fails when the primary cannot subscribe to
// patterns.
func (t *Transport) SubscribePattern(ctx context.Context, patterns ...string) (transport.Subscription, error) {
	p, err := t.primary()
	if err != nil {
		return nil, err
	}
	ps, ok := p.(transport.PatternSubscriber)
	if !ok {
		return nil, fmt.Errorf("tee: the primary %s cannot subscribe to patterns", nameOf(p))
	}
	return ps.SubscribePattern(ctx, patterns...)
}

func (t *Transport) primary() (transport.Transport, error) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.closed {
		return nil, transport.ErrClosed
	}
	return t.targets[0].t, nil
}

// Ping pings every target at once. The primary's error is returned; a
// secondary's only under FailCall.
func (t *Transport) Ping(ctx context.Context) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if err := t.ready(ctx, nil); err != nil {
		return err
	}
	errs := make([]error, len(t.targets))
	t.each(false, func(i int, tg *target) error {
		errs[i] = tg.t.Ping(ctx)
		return errs[i]
	})
	for i := 1; i < len(errs); i++ {
		if errs[i] != nil && t.cfg.secondary == FailCall && errs[0] == nil {
			return fmt.Errorf("tee: secondary %s: %w", t.targets[i].name, errs[i])
		}
	}
	return errs[0]
}

// Capabilities reports the primary's Persistent, Headers and Ordered, and
// the smallest non-zero MaxPayload of all targets.
func (t *Transport) Capabilities() transport.Capabilities {
	t.mu.RLock()
	defer t.mu.RUnlock()
	c := t.targets[0].t.Capabilities()
	c.MaxPayload = t.limit()
	return c
}

// Close closes every current target, unless WithKeepOpen was given, and
// makes later calls return transport.ErrClosed. It waits for publishes in
// flight, is idempotent and returns the targets' errors joined.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	targets := t.targets
	t.mu.Unlock()
	t.rep.Close()
	if t.cfg.keepOpen {
		return nil
	}
	var errs []error
	for _, tg := range targets {
		if err := tg.t.Close(); err != nil {
			errs = append(errs, fmt.Errorf("tee: closing %s: %w", tg.name, err))
		}
	}
	return errors.Join(errs...)
}

// secondaryError is what the error reporter hands WithErrorHandler's
// handler: a secondary's failure and its name.
type secondaryError struct {
	target string
	err    error
}

func (e *secondaryError) Error() string { return "tee: secondary " + e.target + ": " + e.err.Error() }
func (e *secondaryError) Unwrap() error { return e.err }
