package redis

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// PublishBatch on the publish connections (connpipe.go): the batch's
// requests are queued together on the first connection, so that batches
// go in the order they were started, and written at once, in as few
// writes as MaxPipeline allows, without waiting for replies to what is in
// flight; the reader fills in each one's reply and wakes the batch's
// caller once, at its last reply. Nothing is allocated per message. A
// batch is started and then waited for, so several may be in flight.

// pbatch is one batch's requests on a publish connection.
type pbatch struct {
	p      *connPipe
	pc     *pconn
	heard  uint64 // pc.heard when it was queued
	closed bool   // the transport was closed: nothing was queued
	reqs   []preq
	left   atomic.Int32  // requests without an outcome yet
	done   chan struct{} // buffered 1: every request has its outcome
}

// doBatch publishes msgs in order and waits for every reply: see wait.
func (p *connPipe) doBatch(ctx context.Context, msgs []transport.Message) []error {
	return p.startBatch(msgs).wait(ctx)
}

// startBatch queues msgs in order on the first connection, behind every
// batch started before, and writes them now unless someone is writing
// (who then writes them too). The payloads are read until wait returns;
// call wait once.
func (p *connPipe) startBatch(msgs []transport.Message) *pbatch {
	pc := &p.conns[0]
	b, _ := p.batches.Get().(*pbatch)
	if b == nil {
		b = &pbatch{done: make(chan struct{}, 1)}
	}
	b.p, b.pc = p, pc
	if cap(b.reqs) < len(msgs) {
		b.reqs = make([]preq, len(msgs))
	}
	b.reqs = b.reqs[:len(msgs)]
	for i := range msgs {
		b.reqs[i] = preq{channel: msgs[i].Channel, payload: msgs[i].Payload, batch: b}
	}
	b.left.Store(int32(len(msgs)))
	pc.mu.Lock()
	if pc.closed {
		pc.mu.Unlock()
		b.closed = true
		return b
	}
	for i := range b.reqs {
		pc.queue = append(pc.queue, &b.reqs[i])
	}
	b.heard = pc.heard
	lead := pc.kickLocked()
	if w := pc.cur; lead == nil && w != nil && !w.writing && !w.delivering && !w.failed {
		// Requests are in flight: a batch does not wait for their replies
		// to gather more behind it, it goes now.
		w.writing = true
		lead = w
	}
	pc.mu.Unlock()
	if lead != nil {
		lead.flush()
	}
	return b
}

// wait returns nil once Redis took every message of b, else each one's
// outcome (Redis's reply error or the connection's error, unmapped; nil
// for the ones published). A done ctx withdraws the requests not written
// yet and leaves those written to the reader: every outcome is then
// ctx's error, as none is sure. b must not be used after.
func (b *pbatch) wait(ctx context.Context) []error {
	n := len(b.reqs)
	if b.closed {
		b.p.putBatch(b)
		return sameErr(n, goredis.ErrClosed)
	}
	if done := ctx.Done(); done == nil {
		<-b.done
	} else {
		select {
		case <-b.done:
		case <-done:
			select {
			case <-b.done: // every reply came in meanwhile
			default:
				b.pc.giveUpBatch(ctx, b)
				return sameErr(n, ctx.Err()) // b is left to the reader
			}
		}
	}
	var results []error
	for i := range b.reqs {
		if err := b.reqs[i].err; err != nil {
			if results == nil {
				results = make([]error, n)
			}
			results[i] = err
		}
	}
	b.p.putBatch(b)
	return results
}

// finish sets the outcomes of rs, a run of b's requests, to reps and
// wakes b's caller if they were the last: as each one's finish would, with
// one count for the run.
func (b *pbatch) finish(rs []*preq, reps []error) {
	for i, r := range rs {
		r.payload, r.err = nil, reps[i]
	}
	if b.left.Add(-int32(len(rs))) == 0 {
		b.done <- struct{}{}
	}
}

// sameErr returns n outcomes, each err.
func sameErr(n int, err error) []error {
	results := make([]error, n)
	for i := range results {
		results[i] = err
	}
	return results
}

func (p *connPipe) putBatch(b *pbatch) {
	clear(b.reqs)
	b.reqs = b.reqs[:0]
	b.p, b.pc, b.closed = nil, nil, false
	p.batches.Put(b)
}

// giveUpBatch withdraws b's requests not written yet, whose caller's
// context ended. As giveUp does for one request, it fails the connection
// as stalled when ctx's deadline passed with requests in flight and no
// reply read since b was queued.
func (pc *pconn) giveUpBatch(ctx context.Context, b *pbatch) {
	pc.mu.Lock()
	kept := pc.queue[:0]
	withdrawn := 0
	for _, r := range pc.queue {
		if r.batch == b {
			r.payload = nil
			withdrawn++
			continue
		}
		kept = append(kept, r)
	}
	clear(pc.queue[len(kept):])
	pc.queue = kept
	// Written and not answered (or answered and not counted yet, which
	// changed pc.heard).
	inflight := int(b.left.Load()) - withdrawn
	var stalled *wire
	if w := pc.cur; w != nil && !w.failed && inflight > 0 && pc.heard == b.heard &&
		errors.Is(ctx.Err(), context.DeadlineExceeded) && !w.wake.nudge() {
		stalled = w
	}
	pc.mu.Unlock()
	if stalled != nil {
		stalled.fail(errStalled)
	}
}
