package eventpub

import (
	"fmt"
	"sync"
	"time"
)

// reporter hands failures to the error handler on a goroutine of its own,
// at most one per interval, saying how many it held back in between. The
// handler never runs on a publishing goroutine or the sender, so a handler
// that logs through this same Publisher cannot deadlock it.
type reporter struct {
	h     func(error)
	every time.Duration
	ch    chan error // to the handler goroutine
	done  chan struct{}

	mu         sync.Mutex
	last       time.Time // of the last report of any kind
	lastFail   time.Time // of the last report of a message failed or dropped
	suppressed int
	closed     bool
}

func newReporter(h func(error), every time.Duration) *reporter {
	r := &reporter{h: h, every: every}
	if h != nil {
		r.ch, r.done = make(chan error, 2), make(chan struct{})
		go func() {
			defer close(r.done)
			for err := range r.ch {
				r.h(err)
			}
		}()
	}
	return r
}

// report reports a message failed or dropped, at most one such report
// per interval. It builds the error only when it will be delivered, and
// never blocks.
func (r *reporter) report(build func() error) { r.send(build, true) }

// retrying reports a failed try that will be retried, at most one report
// of any kind per interval: a retry notice never holds back the report of
// a message lost.
func (r *reporter) retrying(build func() error) { r.send(build, false) }

func (r *reporter) send(build func() error, lost bool) {
	if r.h == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	last := r.last
	if lost {
		last = r.lastFail
	}
	if r.closed || (!last.IsZero() && now.Sub(last) < r.every) {
		r.suppressed++
		return
	}
	err := build()
	if r.suppressed > 0 {
		err = fmt.Errorf("%w (and %d more failures since the last report)", err, r.suppressed)
	}
	select {
	case r.ch <- err:
		r.last, r.suppressed = now, 0
		if lost {
			r.lastFail = now
		}
	default: // the handler is still busy with the last one
		r.suppressed++
	}
}

// close drops later reports. It does not wait for a handler call in
// progress: the handler may itself be calling Close, or be stuck; that call
// finishes on its own, possibly after Close has returned.
func (r *reporter) close() {
	if r.h == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		close(r.ch)
	}
}
