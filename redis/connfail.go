package redis

import (
	"context"
	"errors"

	goredis "github.com/redis/go-redis/v9"
)

// How publish connections fail and close.
//
// A connection that fails for any reason but Close (read or
// write error, read timeout, unexpected reply) or cannot be dialled marks
// Redis down at once, whether or not a caller still waits for it. A
// caller whose deadline passes while its request is in flight, with no
// reply read on its connection during its whole wait, fails the
// connection with errStalled: the signal go-redis gives (a read that hits
// the caller's deadline) when ContextTimeoutEnabled is set. A cancelled
// context (no deadline) only withdraws its caller.
//
// Close does not wait for a dial in progress: the dial's context ends with
// Close, and a dial that returns afterwards closes its connection itself.
// A dialer that ignores its context (go-redis's default dialer does for
// TLS, on a client given to New) finishes within its DialTimeout in the
// background; Open's clients use a dialer that honours it.

// errStalled fails a connection on which a caller's deadline passed with
// its request in flight and no reply read during its whole wait.
var errStalled = errors.New("no reply on the publish connection before a caller's deadline")

// giveUp withdraws r, whose caller's context ended, and returns ctx's
// error. If r is already written, it is left to the reader (and then to the
// garbage collector); when ctx's deadline passed and no reply came on the
// connection since r was queued (heard), the connection is failed as
// stalled, which marks Redis down.
func (pc *pconn) giveUp(ctx context.Context, r *preq, heard uint64) error {
	pc.mu.Lock()
	if i := indexOf(pc.queue, r); i >= 0 {
		pc.queue = append(pc.queue[:i], pc.queue[i+1:]...)
		pc.queue[len(pc.queue):cap(pc.queue)][0] = nil
		pc.mu.Unlock()
		r.channel, r.payload = "", nil
		pc.p.reqs.Put(r)
		return ctx.Err()
	}
	var stalled *wire
	if w := pc.cur; w != nil && !w.failed && w.inflight.n > 0 && pc.heard == heard &&
		errors.Is(ctx.Err(), context.DeadlineExceeded) && !w.wake.nudge() {
		stalled = w
	}
	pc.mu.Unlock()
	if stalled != nil {
		stalled.fail(errStalled)
	}
	return ctx.Err()
}

// down marks Redis down when err says the connection failed (not a reply
// error, not Close).
func (p *connPipe) down(err error) {
	if errors.Is(err, goredis.ErrClosed) || classify(err) != kindNetwork || p.t.closed.Load() {
		return
	}
	p.t.markDown(p.t.scrub(err))
}

// fail wakes each request with err.
func fail(q []*preq, err error) {
	for _, r := range q {
		r.finish(err)
	}
}

// close fails the queue and the connection with goredis.ErrClosed.
func (p *connPipe) close() {
	for i := range p.conns {
		pc := &p.conns[i]
		pc.mu.Lock()
		pc.closed = true
		w := pc.cur
		q := pc.takeQueueLocked() // callers waiting for a dial
		pc.mu.Unlock()
		fail(q, goredis.ErrClosed)
		if w != nil {
			w.fail(goredis.ErrClosed)
		}
	}
}

// fail closes the connection, marks Redis down unless err is Close's or a
// reply error, and wakes every request written to it and every queued one
// with err. Later calls do nothing.
func (w *wire) fail(err error) {
	pc := w.pc
	pc.mu.Lock()
	if w.failed {
		pc.mu.Unlock()
		return
	}
	w.failed = true
	var q []*preq
	if pc.cur == w {
		pc.cur = nil
		q = pc.takeQueueLocked()
	}
	for w.inflight.n > 0 {
		q = append(q, w.inflight.pop())
	}
	pc.mu.Unlock()
	_ = w.c.Close()
	pc.p.down(err) // before waking: their next calls fail fast
	fail(q, err)
}
