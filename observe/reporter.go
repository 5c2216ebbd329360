package observe

import (
	"fmt"
	"sync"
	"time"
)

// ErrorReporter is the Observer that turns failures into calls of an error
// handler, the one way every part of eventpub reports errors the caller
// cannot see. The handler runs on a goroutine of its own, never on a
// publishing goroutine or a sender, so a handler that logs through the
// Publisher reporting to it cannot deadlock it. It runs at most once per
// interval for lost messages (failed, dropped, Report) and once per
// interval for anything (a retry notice never holds back the report of a
// message lost); what is held back in between is counted into the next
// report. Errors are built only when they will be delivered.
//
// A nil *ErrorReporter ignores everything.
type ErrorReporter struct {
	Nop
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

// NewErrorReporter starts a reporter calling h at most once per every. It
// returns nil (which reports nothing) when h is nil. Close stops it.
func NewErrorReporter(h func(error), every time.Duration) *ErrorReporter {
	if h == nil {
		return nil
	}
	r := &ErrorReporter{h: h, every: every, ch: make(chan error, 2), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for err := range r.ch {
			r.h(err)
		}
	}()
	return r
}

// Dropped reports messages an overflow policy discarded.
func (r *ErrorReporter) Dropped(o Outcome) {
	r.send(true, func() error { return fmt.Errorf("eventpub: %s on %q dropped: %w", messages(o.Count), o.Channel, o.Err) })
}

// Failed reports messages that will not be delivered.
func (r *ErrorReporter) Failed(o Outcome) {
	r.send(true, func() error { return fmt.Errorf("eventpub: %s on %q failed: %w", messages(o.Count), o.Channel, o.Err) })
}

// Retried reports a failed try that will be repeated.
func (r *ErrorReporter) Retried(o Outcome) {
	r.send(false, func() error { return fmt.Errorf("eventpub: send failed, retrying: %w", o.Err) })
}

// Report reports err as it is, as a loss.
func (r *ErrorReporter) Report(err error) { r.send(true, func() error { return err }) }

// Retrying reports err as it is, as a retry notice.
func (r *ErrorReporter) Retrying(err error) { r.send(false, func() error { return err }) }

func messages(n int) string {
	if n == 1 {
		return "message"
	}
	return fmt.Sprintf("%d messages", n)
}

func (r *ErrorReporter) send(lost bool, build func() error) {
	if r == nil {
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

// Close drops later reports. It does not wait for a handler call in
// progress: the handler may itself be closing what reports to it, or be
// stuck; that call finishes on its own, possibly after Close has returned.
func (r *ErrorReporter) Close() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		close(r.ch)
	}
}
