// Package sendq is the async queue on any Transport: batches, retries,
// overflow policy.
//
// A [Queue] takes messages at once (Push) and sends them from one goroutine
// in batches, holding them through broker outages, at least once: a batch
// counts as published once the broker has confirmed it (for a driver whose
// publishing may only buffer, a transport.Flusher round trip), and is sent
// again when that confirmation does not come. A message the broker refuses
// for good is failed, counted and reported, and the ones behind it go on;
// so is one that keeps failing while the broker answers pings. Only a real
// outage holds every message, retried with capped exponential backoff and
// jitter. When the queue is full its [Policy] decides.
//
// The Publisher of package eventpub, the bridge and anything else that
// needs fire-and-forget publishing use it; it needs nothing but the
// transport contract and reports to an observe.Observer.
package sendq

import (
	"context"
	"maps"
	"sync"

	"github.com/eventpub/eventpub/internal/bufpool"
	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/transport"
)

// entry is one encoded message waiting to be sent. Its payload is a copy
// in the queue's arena, with the time it was accepted when the observer
// times.
type entry struct {
	channel string
	header  map[string]string
	chunk   *chunk // where the payload is
	off, n  uint32
}

// payload returns e's payload. It stays valid until e is released.
func (e *entry) payload() []byte { return e.chunk.bytes(e.off, e.n) }

// accepted returns when e was accepted (unix ns); only a queue whose
// observer times keeps it.
func (e *entry) accepted() int64 { return e.chunk.stamp(e.off) }

// Queue is a bounded FIFO drained by one sender goroutine. The sender
// takes a batch from the front and settles it (published, failed); the
// capacity counts the FIFO and the batch. While the sender backs off after
// a failure it puts the batch back at the front, so DropOldest drops the
// oldest message, not a newer one behind the batch. It is safe for
// concurrent use.
type Queue struct {
	t       transport.Transport
	flusher transport.Flusher // the transport, when publishing may only buffer
	cfg     Config
	system  string
	counts  observe.Counters
	rep     *observe.ErrorReporter
	obs     observe.Observer // counts, the configured observer and rep
	timed   bool             // obs wants latencies

	mu      sync.Mutex
	fifo    fifo    // waiting entries
	n       int     // len of fifo
	arena   arena   // the payloads of fifo and batch
	batch   []entry // taken by the sender, not settled yet
	closing bool
	// abandoned: Close gave up on the sender and counted what was left;
	// the sender settles nothing more.
	abandoned bool
	room      chan struct{} // closed and replaced whenever room appears

	// idle: the sender found nothing to send and waits on wake; the next
	// push clears it and wakes the sender (a push into a queue the sender
	// is busy with costs no channel operation).
	idle   bool
	wake   chan struct{} // tells the sender there is work
	ctx    context.Context
	cancel context.CancelFunc // aborts the sender (Close deadline)
	exited chan struct{}
}

// New starts a Queue sending to t. It fails when cfg does not Validate.
// The Queue does not own t: Close leaves it open.
func New(t transport.Transport, cfg Config) (*Queue, error) {
	if t == nil {
		return nil, errNilTransport
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.MaxBatch == 0 {
		cfg.MaxBatch = DefaultMaxBatch
		if bs, ok := t.(BatchSizer); ok && bs.PreferredBatch() > 0 {
			cfg.MaxBatch = preferredBatch(bs.PreferredBatch(), cfg.Capacity)
		}
	}
	if cfg.ErrorEvery == 0 {
		cfg.ErrorEvery = DefaultErrorEvery
	}
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{
		t:      t,
		cfg:    cfg,
		system: transport.SystemName(t),
		rep:    observe.NewErrorReporter(cfg.ErrorHandler, cfg.ErrorEvery),
		room:   make(chan struct{}),
		wake:   make(chan struct{}, 1),
		ctx:    ctx,
		cancel: cancel,
		exited: make(chan struct{}),
	}
	var rep observe.Observer
	if q.rep != nil {
		rep = q.rep
	}
	q.obs = observe.Multi(&q.counts, cfg.Observer, rep)
	q.timed = observe.Timed(q.obs)
	q.arena.stamped = q.timed
	q.flusher, _ = t.(transport.Flusher)
	go q.run()
	return q, nil
}

// Counters returns a snapshot of the queue's counters: Accepted =
// Published + Dropped + Failed + Queued.
func (q *Queue) Counters() observe.Snapshot { return q.counts.Snapshot() }

// Reporter returns the queue's error reporter (nil without an
// ErrorHandler), for a user of the queue to report its own errors the same
// way.
func (q *Queue) Reporter() *observe.ErrorReporter { return q.rep }

// Push queues a copy of msg (its payload and header), applying the
// overflow policy when the queue is full. It returns transport.ErrClosed
// after Close, ErrQueueFull or ctx.Err() when the message was dropped.
func (q *Queue) Push(ctx context.Context, msg transport.Message) error {
	header := msg.Header
	if len(header) > 0 {
		header = maps.Clone(header)
	}
	return q.push(ctx, msg.Channel, msg.Payload, header)
}

// PushOwned queues the message in buf for channel, taking buf and header:
// the queue keeps header and a compact copy of the payload, and recycles
// buf (package bufpool) before it returns. Otherwise it is Push.
func (q *Queue) PushOwned(ctx context.Context, channel string, buf *[]byte, header map[string]string) error {
	err := q.push(ctx, channel, *buf, header)
	bufpool.Put(buf)
	return err
}

// push queues a copy of payload; the queue keeps header.
func (q *Queue) push(ctx context.Context, channel string, payload []byte, header map[string]string) error {
	var at int64
	if q.timed {
		at = nanotime()
	}
	q.mu.Lock()
	if q.closing {
		q.mu.Unlock()
		return transport.ErrClosed
	}
	q.obs.Accepted(q.outcome(channel, 1, nil))
	for q.n+len(q.batch) >= q.cfg.Capacity {
		switch {
		case q.cfg.Policy == DropOldest && q.n > 0:
			old := q.popFront()
			q.drop(old, errDroppedOldest)
		case q.cfg.Policy == Block:
			room := q.room
			q.mu.Unlock()
			select {
			case <-room:
				q.mu.Lock()
				if q.closing {
					q.mu.Unlock()
					q.obs.Dropped(q.outcome(channel, 1, transport.ErrClosed))
					return transport.ErrClosed
				}
				continue
			case <-ctx.Done():
				q.obs.Dropped(q.outcome(channel, 1, ctx.Err()))
				return ctx.Err()
			}
		default: // DropNewest, or DropOldest with every queued message being sent
			q.mu.Unlock()
			q.obs.Dropped(q.outcome(channel, 1, ErrQueueFull))
			return ErrQueueFull
		}
	}
	e := entry{channel: channel, header: header}
	e.chunk, e.off, e.n = q.arena.put(payload, at)
	q.pushBack(e)
	wake := q.idle
	q.idle = false
	q.mu.Unlock()
	if wake {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
	return nil
}

// drop counts and reports the queued e as dropped and releases it. Caller
// holds mu.
func (q *Queue) drop(e entry, why error) {
	q.obs.Dropped(q.outcome(e.channel, 1, why))
	q.release(e)
}

// release gives back the payload of an entry no longer queued nor read.
// Caller holds mu.
func (q *Queue) release(e entry) { q.arena.release(e.chunk) }

func (q *Queue) outcome(channel string, n int, err error) observe.Outcome {
	return observe.Outcome{Channel: channel, System: q.system, Count: n, Err: err}
}

func (q *Queue) pushBack(e entry) {
	q.fifo.pushBack(e)
	q.n++
}

// putBackBatch returns the unsettled batch to the front of the FIFO, in
// order. The capacity counted it already, so it always fits.
func (q *Queue) putBackBatch() {
	for i := len(q.batch) - 1; i >= 0; i-- {
		q.fifo.pushFront(q.batch[i])
		q.n++
	}
	clear(q.batch)
	q.batch = q.batch[:0]
}

func (q *Queue) popFront() entry {
	q.n--
	return q.fifo.popFront()
}

// takeFront moves up to k entries from the front of the FIFO to the end
// of q.batch. Caller holds mu.
func (q *Queue) takeFront(k int) {
	had := len(q.batch)
	q.batch = q.fifo.popFrontTo(q.batch, k)
	q.n -= len(q.batch) - had
}

// signalRoom wakes every pusher blocked for room. Caller holds mu.
func (q *Queue) signalRoom() {
	close(q.room)
	q.room = make(chan struct{})
}

// preferredBatch is the batch size a transport's PreferredBatch p gives a
// queue of the capacity: a size above DefaultMaxBatch is kept to an eighth
// of the capacity (never below DefaultMaxBatch), since a batch being sent
// cannot be dropped: during an outage, DropOldest then still finds as many
// messages to drop as with the default size.
func preferredBatch(p, capacity int) int {
	if p <= DefaultMaxBatch {
		return p
	}
	return max(DefaultMaxBatch, min(p, capacity/8))
}

// maxBatch bounds a batch so that DropOldest finds a waiting message to
// drop while a batch is being sent.
func (q *Queue) maxBatch() int {
	return max(1, min(q.cfg.MaxBatch, q.cfg.Capacity/2))
}

// Stop makes the sender give up at once, as when Close's context ends; a
// Close in progress then counts what is left and returns.
func (q *Queue) Stop() { q.cancel() }

// Close stops accepting, lets the sender drain until ctx ends, and returns
// how many messages were left undelivered (counted as failed). It does not
// close the transport. Call it once.
func (q *Queue) Close(ctx context.Context) int {
	q.mu.Lock()
	q.closing = true
	q.signalRoom() // blocked pushers see closing and give up
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	select {
	case <-q.exited:
	case <-ctx.Done():
	case <-q.ctx.Done(): // Stop was called (a concurrent Close's deadline)
	}
	q.cancel()
	// A driver call that ignores cancellation (a client honouring only
	// deadlines, a socket write on a stalled link) must not hold Close past
	// its context: after a short grace the sender is abandoned. Its batch
	// counts as undelivered, whatever the call it is in returns; closing
	// the transport next ends that call.
	exited := true
	select {
	case <-q.exited:
	case <-afterGrace():
		exited = false
	}
	q.mu.Lock()
	q.abandoned = true
	lost := q.n + len(q.batch)
	for q.n > 0 {
		q.release(q.popFront())
	}
	if exited {
		for _, e := range q.batch {
			q.release(e)
		}
		q.arena.drop()
	} // else the sender may still read them: their chunks stay unreused
	q.batch = nil
	q.rep.Close() // the caller hears of the loss from Close itself
	if lost > 0 {
		err := ctx.Err()
		if err == nil {
			err = errGaveUp
		}
		q.obs.Failed(q.outcome("", lost, err))
	}
	q.mu.Unlock()
	return lost
}
