package redis

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// PublishBatch on the publish connections (connpipe.go): the batch's
// requests are queued together on one connection, so they are written in
// order, in as few writes as the write size allows, behind or ahead of
// concurrent Publish calls; the reader fills in each one's reply and wakes
// the batch's caller once, at its last reply. Nothing is allocated per
// message.

// pbatch is one PublishBatch's requests.
type pbatch struct {
	reqs []preq
	left atomic.Int32  // requests without an outcome yet
	done chan struct{} // buffered 1: every request has its outcome
}

// doBatch publishes msgs in order on one connection. It returns nil when
// Redis took every one, else each one's outcome (Redis's reply error or
// the connection's error, unmapped; nil for the ones published). A done
// ctx withdraws the requests not written yet and leaves those written to
// the reader: every outcome is then ctx's error, as none is sure.
func (p *connPipe) doBatch(ctx context.Context, msgs []transport.Message) []error {
	pc := &p.conns[0]
	if len(p.conns) > 1 {
		pc = &p.conns[int(p.next.Add(1))%len(p.conns)]
	}
	b, _ := p.batches.Get().(*pbatch)
	if b == nil {
		b = &pbatch{done: make(chan struct{}, 1)}
	}
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
		p.putBatch(b)
		return sameErr(len(msgs), goredis.ErrClosed)
	}
	for i := range b.reqs {
		pc.queue = append(pc.queue, &b.reqs[i])
	}
	heard := pc.heard
	lead := pc.kickLocked()
	pc.mu.Unlock()
	if lead != nil {
		lead.flush()
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
				pc.giveUpBatch(ctx, b, heard)
				return sameErr(len(msgs), ctx.Err()) // b is left to the reader
			}
		}
	}
	var results []error
	for i := range b.reqs {
		if err := b.reqs[i].err; err != nil {
			if results == nil {
				results = make([]error, len(b.reqs))
			}
			results[i] = err
		}
	}
	p.putBatch(b)
	return results
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
	p.batches.Put(b)
}

// giveUpBatch withdraws b's requests not written yet, whose caller's
// context ended. As giveUp does for one request, it fails the connection
// as stalled when ctx's deadline passed with requests in flight and no
// reply read since heard.
func (pc *pconn) giveUpBatch(ctx context.Context, b *pbatch, heard uint64) {
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
	if w := pc.cur; w != nil && !w.failed && inflight > 0 && pc.heard == heard &&
		errors.Is(ctx.Err(), context.DeadlineExceeded) {
		stalled = w
	}
	pc.mu.Unlock()
	if stalled != nil {
		stalled.fail(errStalled)
	}
}
