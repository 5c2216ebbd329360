package sendq

import (
	"context"

	"github.com/eventpub/eventpub/transport"
)

// The window of a transport.BatchStarter: how many batches, and messages,
// the sender keeps in flight at once. The messages are also at most half
// the capacity, so that DropOldest finds a waiting message to drop.
const (
	windowBatches = 16
	windowMsgs    = 4096
)

// window keeps batches in flight on a transport.BatchStarter. The batches
// are the front of q.batch, in the order they were started: q.batch[:n]
// is in flight, the rest was taken and waits to be started. Only the
// sender goroutine uses it.
type window struct {
	q      *Queue
	bs     transport.BatchStarter
	flight []inFlight // oldest first
	n      int        // messages in flight
	free   [][]transport.Message
	// shut: the last batch failed. Until one goes through, one batch at a
	// time is sent, as without a window: an outage costs one failed
	// batch per try, and DropOldest keeps dropping the oldest message but
	// for at most one batch.
	shut bool
}

type inFlight struct {
	n    int
	p    transport.PendingBatch
	msgs []transport.Message // read by the transport until p's Wait returns
}

// newWindow returns the window for q's transport, or nil when it is not a
// transport.BatchStarter: then the sender sends one batch at a time.
func (q *Queue) newWindow() *window {
	bs, ok := q.t.(transport.BatchStarter)
	if !ok {
		return nil
	}
	return &window{q: q, bs: bs}
}

// next starts batches until the window is full or nothing waits, then
// waits for the oldest one. It returns that batch's messages (the front of
// q.batch) and Wait's result; ok is false when Close gave up on the
// sender.
func (w *window) next() (batch []entry, ok bool, err error) {
	if !w.fill() {
		return nil, false, nil
	}
	head := w.flight[0]
	ctx, cancel := context.WithTimeout(w.q.ctx, attemptTimeout)
	err = head.p.Wait(ctx)
	cancel()
	w.done(head)
	w.flight = w.flight[1:]
	w.n -= head.n
	w.shut = err != nil
	q := w.q
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.abandoned {
		return nil, false, nil
	}
	return q.batch[:head.n], true, err
}

// fill starts batches from what waits in q.batch, then from the FIFO,
// while the window has room. It returns false when Close gave up.
func (w *window) fill() bool {
	q := w.q
	maxBatch := q.maxBatch()
	limit := max(maxBatch, min(windowMsgs, q.cfg.Capacity/2))
	batches := windowBatches
	if w.shut {
		batches, limit = 1, maxBatch
	}
	for len(w.flight) < batches && w.n < limit {
		q.mu.Lock()
		if q.abandoned {
			q.mu.Unlock()
			return false
		}
		if len(q.batch) == w.n {
			q.takeFront(min(maxBatch, limit-w.n))
		}
		next := q.batch[w.n:]
		next = next[:min(len(next), maxBatch)]
		q.mu.Unlock()
		if len(next) == 0 {
			break
		}
		msgs := w.msgs()
		for _, e := range next {
			msgs = append(msgs, transport.Message{Channel: e.channel, Payload: e.payload(), Header: e.header})
		}
		ctx, cancel := context.WithTimeout(q.ctx, attemptTimeout)
		p := w.bs.StartBatch(ctx, msgs)
		cancel()
		w.flight = append(w.flight, inFlight{n: len(next), p: p, msgs: msgs})
		w.n += len(next)
	}
	return len(w.flight) > 0
}

// drain waits for every batch in flight, whatever its outcome: the sender
// sends them all again. It returns how many messages they hold.
func (w *window) drain() int {
	if w == nil || len(w.flight) == 0 {
		return 0
	}
	n := w.n
	ctx, cancel := context.WithTimeout(w.q.ctx, attemptTimeout)
	defer cancel()
	for _, f := range w.flight {
		_ = f.p.Wait(ctx)
		w.done(f)
	}
	clear(w.flight)
	w.flight, w.n = w.flight[:0], 0
	return n
}

// msgs returns an empty message slice to build a batch in.
func (w *window) msgs() []transport.Message {
	if k := len(w.free); k > 0 {
		m := w.free[k-1]
		w.free = w.free[:k-1]
		return m
	}
	return make([]transport.Message, 0, w.q.maxBatch())
}

// done recycles the messages of a batch that has ended.
func (w *window) done(f inFlight) {
	clear(f.msgs)
	w.free = append(w.free, f.msgs[:0])
}
