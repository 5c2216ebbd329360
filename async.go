package eventpub

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/eventpub/eventpub/transport"
)

// Retry timing of the async sender.
const (
	attemptTimeout = 10 * time.Second       // one send attempt
	backoffMin     = 10 * time.Millisecond  // first wait after a retryable failure
	backoffMax     = 500 * time.Millisecond // cap of the doubling wait
	// maxTriesWhileUp bounds the tries of a message that keeps failing
	// with an outage error: after that many the sender pings the broker,
	// and when it answers the message is failed, not retried for ever.
	maxTriesWhileUp = 5
	pingTimeout     = 2 * time.Second // that ping
	// senderGrace is how long Close, its context done, waits for the
	// sender to notice before it abandons it.
	senderGrace = 100 * time.Millisecond
)

// entry is one encoded message waiting to be sent.
type entry struct {
	channel string
	buf     *[]byte
	header  map[string]string
}

// queue is the async delivery path: a bounded FIFO drained by one sender
// goroutine. The sender takes a batch from the front and settles it
// (published, failed); the capacity counts the FIFO and the batch. While the
// sender backs off after a failure it puts the batch back at the front, so
// DropOldest drops the oldest message, not a newer one behind the batch.
type queue struct {
	p       *Publisher
	rep     *reporter
	flusher transport.Flusher // the transport, when publishing may only buffer

	mu      sync.Mutex
	ring    []entry // FIFO storage, grown on demand up to capacity
	head, n int
	batch   []entry // taken by the sender, not settled yet
	closing bool
	// abandoned: Close gave up on the sender and counted what was left;
	// the sender settles nothing more.
	abandoned bool
	room      chan struct{} // closed and replaced whenever room appears

	wake   chan struct{} // tells the sender there is work
	ctx    context.Context
	stop   context.CancelFunc // aborts the sender (Close deadline)
	exited chan struct{}
}

func newQueue(p *Publisher) *queue {
	ctx, stop := context.WithCancel(context.Background())
	q := &queue{
		p:      p,
		rep:    newReporter(p.cfg.errorHandler, p.cfg.errorEvery),
		room:   make(chan struct{}),
		wake:   make(chan struct{}, 1),
		ctx:    ctx,
		stop:   stop,
		exited: make(chan struct{}),
	}
	q.flusher, _ = p.t.(transport.Flusher)
	go q.run()
	return q
}

// push accepts b for channel, applying the overflow policy when full.
func (q *queue) push(ctx context.Context, e entry) error {
	p := q.p
	q.mu.Lock()
	if q.closing {
		q.mu.Unlock()
		putBuf(e.buf)
		return ErrClosed
	}
	p.accepted.Add(1)
	for q.n+len(q.batch) >= p.cfg.capacity {
		switch {
		case p.cfg.policy == DropOldest && q.n > 0:
			old := q.popFront()
			p.dropped.Add(1)
			putBuf(old.buf)
			q.rep.report(func() error {
				return fmt.Errorf("eventpub: queue full (capacity %d): dropped the oldest message on %q", p.cfg.capacity, old.channel)
			})
		case p.cfg.policy == Block:
			room := q.room
			q.mu.Unlock()
			select {
			case <-room:
				q.mu.Lock()
				if q.closing {
					q.mu.Unlock()
					p.dropped.Add(1)
					putBuf(e.buf)
					return ErrClosed
				}
				continue
			case <-ctx.Done():
				p.dropped.Add(1)
				putBuf(e.buf)
				return ctx.Err()
			}
		default: // DropNewest, or DropOldest with every queued message being sent
			q.mu.Unlock()
			p.dropped.Add(1)
			putBuf(e.buf)
			q.rep.report(func() error {
				return fmt.Errorf("eventpub: queue full (capacity %d): dropped a new message on %q", p.cfg.capacity, e.channel)
			})
			return ErrQueueFull
		}
	}
	q.pushBack(e)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return nil
}

func (q *queue) pushBack(e entry) {
	q.reserve(1)
	q.ring[(q.head+q.n)%len(q.ring)] = e
	q.n++
}

// putBackBatch returns the unsettled batch to the front of the FIFO, in
// order. The capacity counted it already, so it always fits.
func (q *queue) putBackBatch() {
	q.reserve(len(q.batch))
	for i := len(q.batch) - 1; i >= 0; i-- {
		q.head = (q.head - 1 + len(q.ring)) % len(q.ring)
		q.ring[q.head] = q.batch[i]
		q.n++
	}
	clear(q.batch)
	q.batch = q.batch[:0]
}

// reserve grows the ring, up to the capacity, to hold k more entries.
func (q *queue) reserve(k int) {
	if q.n+k <= len(q.ring) {
		return
	}
	grown := make([]entry, max(16, q.n+k, min(2*len(q.ring), q.p.cfg.capacity)))
	for i := 0; i < q.n; i++ {
		grown[i] = q.ring[(q.head+i)%len(q.ring)]
	}
	q.ring, q.head = grown, 0
}

func (q *queue) popFront() entry {
	e := q.ring[q.head]
	q.ring[q.head] = entry{}
	q.head = (q.head + 1) % len(q.ring)
	q.n--
	return e
}

// signalRoom wakes every publisher blocked for room. Caller holds mu.
func (q *queue) signalRoom() {
	close(q.room)
	q.room = make(chan struct{})
}

// maxBatch bounds a batch so that DropOldest finds a waiting message to
// drop while a batch is being sent.
func (q *queue) maxBatch() int {
	return max(1, min(q.p.cfg.maxBatch, q.p.cfg.capacity/2))
}

// run is the sender goroutine.
func (q *queue) run() {
	defer close(q.exited)
	var msgs []transport.Message
	backoff := time.Duration(0)
	single := false   // send one message alone to find which one a batch error is about
	tries := 0        // failed tries since a message was last settled
	answered := false // the broker answered a ping since then: one last try
	for {
		q.mu.Lock()
		for len(q.batch) == 0 && q.n == 0 {
			if q.closing {
				q.mu.Unlock()
				return
			}
			q.mu.Unlock()
			select {
			case <-q.wake:
			case <-q.ctx.Done():
				return
			}
			q.mu.Lock()
		}
		if len(q.batch) == 0 {
			for k := min(q.n, q.maxBatch()); k > 0; k-- {
				q.batch = append(q.batch, q.popFront())
			}
		}
		batch := q.batch
		q.mu.Unlock()

		if single {
			batch = batch[:1]
		}
		msgs = msgs[:0]
		for _, e := range batch {
			msgs = append(msgs, transport.Message{Channel: e.channel, Payload: *e.buf, Header: e.header})
		}
		sent, err := q.send(msgs)
		clear(msgs)
		results := batchResults(err, len(batch))
		if q.flusher != nil && (sent > 0 || results != nil) {
			// The driver may have only buffered them: count them once the
			// broker confirms, and send them all again if it does not.
			if ferr := q.flush(); ferr != nil {
				sent, results, err = 0, nil, ferr
				if errors.Is(ferr, transport.ErrUnknownOutcome) {
					// The broker answered (it just cannot vouch for the
					// batch): send it again at once, not after the
					// backoff of the outage before.
					backoff = 0
				}
			}
		}
		settled := sent
		othersWent := false // a message behind the first failure went through
		if results != nil {
			// The driver knows each message's fate: settle them in order
			// up to the first one that may go later, and retry from there.
			var k int
			k, othersWent, err = q.settleResults(batch, results)
			settled, sent = k, 0
		}
		culprit := "" // the channel of the first message not sent
		if sent < len(batch) {
			culprit = batch[sent].channel
		}
		q.settle(sent, 0)
		if settled > 0 {
			tries, answered = 0, false
		}
		if err == nil {
			backoff, single, tries, answered = 0, false, 0, false
			continue
		}
		if q.ctx.Err() != nil {
			return // Close gave up; it counts what is left
		}
		if retryable(err) {
			tries++
			if othersWent && !single {
				// The broker took the messages behind it: retry this one
				// alone, so the others are not sent again meanwhile.
				single = true
			}
			if tries >= maxTriesWhileUp {
				if len(batch) > 1 && !single {
					// Find the message it is about: one more try alone.
					single, tries = true, maxTriesWhileUp-1
					continue
				}
				if !answered && q.linkUp() {
					// The tries so far may have met an outage that has
					// just ended: one more try now that the broker answers.
					answered = true
					continue
				}
				if answered {
					// Not an outage: the broker answers, yet this message
					// keeps failing. It must not hold the ones behind it.
					n := tries
					single, tries, backoff, answered = false, 0, 0, false
					q.settle(0, 1)
					q.rep.report(func() error {
						return fmt.Errorf("eventpub: message on %q failed %d times while the broker answers: %w", culprit, n, err)
					})
					continue
				}
				tries = 0 // an outage: hold every message, look again later
			}
			backoff = min(max(2*backoff, backoffMin), backoffMax)
			q.rep.retrying(func() error { return fmt.Errorf("eventpub: send failed, retrying in %v: %w", backoff, err) })
			q.mu.Lock()
			if !q.abandoned {
				q.putBackBatch()
			}
			q.mu.Unlock()
			select {
			case <-time.After(backoff):
			case <-q.ctx.Done():
				return
			}
			continue
		}
		if len(batch) > 1 {
			single = true // the error is about one message we cannot name yet
			continue
		}
		single, tries = false, 0
		q.settle(0, 1)
		q.rep.report(func() error { return fmt.Errorf("eventpub: message on %q failed: %w", culprit, err) })
	}
}

// send publishes msgs in order and returns how many were surely sent.
func (q *queue) send(msgs []transport.Message) (int, error) {
	ctx, cancel := context.WithTimeout(q.ctx, attemptTimeout)
	defer cancel()
	return transport.PublishAll(ctx, q.p.t, msgs)
}

// flush waits until the broker has confirmed what send handed the driver.
func (q *queue) flush() error {
	ctx, cancel := context.WithTimeout(q.ctx, attemptTimeout)
	defer cancel()
	return q.flusher.Flush(ctx)
}

// linkUp reports whether the broker answers a ping now. It returns at once
// when Close gives up: a driver's Ping may honour only its deadline (a
// go-redis round trip on a stalled link), and Close must keep its own.
func (q *queue) linkUp() bool {
	ctx, cancel := context.WithTimeout(q.ctx, pingTimeout)
	res := make(chan error, 1)
	go func() {
		defer cancel()
		res <- q.p.t.Ping(ctx)
	}()
	select {
	case err := <-res:
		return err == nil
	case <-q.ctx.Done():
		return false
	}
}

// batchResults returns the per-message results of a *transport.BatchError
// for a batch of n, or nil when the driver gave none.
func batchResults(err error, n int) []error {
	var be *transport.BatchError
	if errors.As(err, &be) && len(be.Results) == n {
		return be.Results
	}
	return nil
}

// settleResults settles the messages at the front of batch whose fate
// results tell: sent ones as published, refused ones (not retryable) as
// failed, up to the first one that may succeed later. It returns how many
// it settled, whether a message after that first one went through, and
// that message's error (nil when the whole batch is settled).
func (q *queue) settleResults(batch []entry, results []error) (settled int, othersWent bool, err error) {
	published, failed := 0, 0
	for i, err := range results {
		switch {
		case err == nil:
			published++
		case !retryable(err) && q.ctx.Err() == nil:
			failed++
			ch := batch[i].channel
			q.rep.report(func() error { return fmt.Errorf("eventpub: message on %q failed: %w", ch, err) })
		default:
			q.settle(published, failed)
			return published + failed, slices.Contains(results[i+1:], nil), err
		}
	}
	q.settle(published, failed)
	return published + failed, false, nil
}

// settle removes the first published+failed messages of the batch, counting
// them, and makes room for blocked publishers.
func (q *queue) settle(published, failed int) {
	if published+failed == 0 {
		return
	}
	q.mu.Lock()
	if q.abandoned {
		q.mu.Unlock() // Close counted the whole batch as undelivered
		return
	}
	for _, e := range q.batch[:published+failed] {
		putBuf(e.buf)
	}
	n := len(q.batch)
	q.batch = append(q.batch[:0], q.batch[published+failed:]...)
	clear(q.batch[len(q.batch):n]) // let the moved-from slots go
	q.p.published.Add(uint64(published))
	q.p.failed.Add(uint64(failed))
	q.signalRoom()
	q.mu.Unlock()
}

// close stops accepting, lets the sender drain until ctx ends, and returns
// how many messages were left undelivered (counted as failed).
func (q *queue) close(ctx context.Context) int {
	q.mu.Lock()
	q.closing = true
	q.signalRoom() // blocked publishers see closing and give up
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	select {
	case <-q.exited:
	case <-ctx.Done():
	case <-q.ctx.Done(): // a concurrent Close's deadline ended first
	}
	q.stop()
	// A driver call that ignores cancellation (a client honouring only
	// deadlines, a socket write on a stalled link) must not hold Close past
	// its context: after a short grace the sender is abandoned. Its batch
	// counts as undelivered, whatever the call it is in returns; closing
	// the transport next ends that call.
	exited := true
	select {
	case <-q.exited:
	case <-time.After(senderGrace):
		exited = false
	}
	q.mu.Lock()
	q.abandoned = true
	lost := q.n + len(q.batch)
	for q.n > 0 {
		putBuf(q.popFront().buf)
	}
	if exited {
		for _, e := range q.batch {
			putBuf(e.buf)
		}
	} // else the sender may still read them: leave them to the collector
	q.batch = nil
	q.p.failed.Add(uint64(lost))
	q.mu.Unlock()
	q.rep.close()
	return lost
}

// retryable reports whether a send may succeed later: the broker is
// unreachable or an attempt timed out.
func retryable(err error) bool {
	return errors.Is(err, transport.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}
