package sendq

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/eventpub/eventpub/internal/backoff"
	"github.com/eventpub/eventpub/transport"
)

// Retry timing of the sender.
const (
	attemptTimeout = 10 * time.Second       // one send attempt
	backoffMin     = 10 * time.Millisecond  // first step after a retryable failure
	backoffMax     = 500 * time.Millisecond // cap of the doubling step
	// maxTriesWhileUp bounds the tries of a message that keeps failing
	// with an outage error: after that many the sender pings the broker,
	// and when it answers the message is failed, not retried for ever.
	maxTriesWhileUp = 5
	pingTimeout     = 2 * time.Second // that ping
	// senderGrace is how long Close, its context done, waits for the
	// sender to notice before it abandons it.
	senderGrace = 100 * time.Millisecond
)

var (
	errNilTransport  = errors.New("eventpub/sendq: New was given a nil transport")
	errDroppedOldest = errors.New("eventpub/sendq: queue full, the oldest waiting message dropped")
	errGaveUp        = errors.New("eventpub/sendq: close gave up")
)

func afterGrace() <-chan time.Time { return time.After(senderGrace) }

func nanotime() int64 { return time.Now().UnixNano() }

// run is the sender goroutine.
func (q *Queue) run() {
	defer close(q.exited)
	var msgs []transport.Message
	wait := backoff.New(backoffMin, backoffMax)
	single := false   // send one message alone to find which one a batch error is about
	tries := 0        // failed tries since a message was last settled
	answered := false // the broker answered a ping since then: one last try
	down := false     // the last try met an outage (reported as the link down)
	w := q.newWindow()
	defer w.drain() // on an exit with batches in flight (Close gave up)
	for {
		q.mu.Lock()
		for len(q.batch) == 0 && q.n == 0 {
			if q.closing {
				q.mu.Unlock()
				return
			}
			q.idle = true
			q.mu.Unlock()
			select {
			case <-q.wake:
			case <-q.ctx.Done():
				return
			}
			q.mu.Lock()
			q.idle = false
		}
		windowed := w != nil && !single
		if len(q.batch) == 0 && !windowed {
			q.takeFront(q.maxBatch())
		}
		batch := q.batch
		depth := q.n + len(q.batch)
		q.mu.Unlock()
		q.obs.QueueDepth(q.system, depth)

		var sent int
		var err error
		var results []error
		if windowed {
			var ok bool
			if batch, ok, err = w.next(); !ok {
				return // Close gave up and counted the batches
			}
			sent, results = sentOf(err, len(batch)), transport.BatchResults(err, len(batch))
			if results == nil && errors.Is(err, transport.ErrUnknownOutcome) {
				wait.Reset() // as after a flush that could not vouch, below
			}
		} else {
			if single {
				batch = batch[:1]
			}
			msgs = msgs[:0]
			for _, e := range batch {
				msgs = append(msgs, transport.Message{Channel: e.channel, Payload: e.payload(), Header: e.header})
			}
			sent, err = q.send(msgs)
			clear(msgs)
			results = transport.BatchResults(err, len(batch))
		}
		if q.flusher != nil && !windowed && (sent > 0 || results != nil) {
			// The driver may have only buffered them: count them once the
			// broker confirms, and send them all again if it does not.
			if ferr := q.flush(); ferr != nil {
				sent, results, err = 0, nil, ferr
				if errors.Is(ferr, transport.ErrUnknownOutcome) {
					// The broker answered (it just cannot vouch for the
					// batch): send it again at once, not after the
					// backoff of the outage before.
					wait.Reset()
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
		again := 0 // messages of batches started after this one, to send again
		if err != nil && windowed {
			// This batch and every batch started after it go again, in
			// order: let those end first.
			again = w.drain()
		}
		culprit := "" // the channel of the first message not sent
		if sent < len(batch) {
			culprit = batch[sent].channel
		}
		q.settle(sent, 0, nil)
		if settled > 0 {
			tries, answered = 0, false
		}
		if down && (settled > 0 || err == nil) {
			down = false
			q.obs.Link(q.system, true, nil)
		}
		if err == nil {
			wait.Reset()
			single, tries, answered = false, 0, false
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
					single, tries, answered = false, 0, false
					wait.Reset()
					q.settle(0, 1, fmt.Errorf("%w (tried %d times while the broker answers)", err, n))
					continue
				}
				tries = 0 // an outage: hold every message, look again later
			}
			if !down && errors.Is(err, transport.ErrUnavailable) && !errors.Is(err, transport.ErrUnknownOutcome) {
				// (an unknown outcome came from a broker that answered)
				down = true
				q.obs.Link(q.system, false, err)
			}
			q.obs.Retried(q.outcome(culprit, len(batch)-settled+again, err))
			q.mu.Lock()
			if !q.abandoned {
				q.putBackBatch()
			}
			q.mu.Unlock()
			t := time.NewTimer(wait.Next())
			select {
			case <-t.C:
			case <-q.ctx.Done():
				t.Stop()
				return
			}
			continue
		}
		if len(batch) > 1 {
			single = true // the error is about one message we cannot name yet
			continue
		}
		single, tries = false, 0
		q.settle(0, 1, err)
	}
}

// send publishes msgs in order and returns how many were surely sent.
func (q *Queue) send(msgs []transport.Message) (int, error) {
	ctx, cancel := context.WithTimeout(q.ctx, attemptTimeout)
	defer cancel()
	return transport.PublishAll(ctx, q.t, msgs)
}

// sentOf returns how many messages at the front of a batch of n err
// says were surely sent.
func sentOf(err error, n int) int {
	if err == nil {
		return n
	}
	var be *transport.BatchError
	if errors.As(err, &be) {
		return min(max(be.Sent, 0), n)
	}
	return 0
}

// flush waits until the broker has confirmed what send handed the driver.
func (q *Queue) flush() error {
	ctx, cancel := context.WithTimeout(q.ctx, attemptTimeout)
	defer cancel()
	return q.flusher.Flush(ctx)
}

// linkUp reports whether the broker answers a ping now. It returns at once
// when Close gives up: a driver's Ping may honour only its deadline (a
// go-redis round trip on a stalled link), and Close must keep its own.
func (q *Queue) linkUp() bool {
	ctx, cancel := context.WithTimeout(q.ctx, pingTimeout)
	res := make(chan error, 1)
	go func() {
		defer cancel()
		res <- q.t.Ping(ctx)
	}()
	select {
	case err := <-res:
		return err == nil
	case <-q.ctx.Done():
		return false
	}
}

// settleResults settles the messages at the front of batch whose fate
// results tell: sent ones as published, refused ones (not retryable) as
// failed, up to the first one that may succeed later. It returns how many
// it settled, whether a message after that first one went through, and
// that message's error (nil when the whole batch is settled).
func (q *Queue) settleResults(batch []entry, results []error) (settled int, othersWent bool, err error) {
	for i, err := range results {
		switch {
		case err == nil:
			q.settle(1, 0, nil)
		case !retryable(err) && q.ctx.Err() == nil:
			q.settle(0, 1, err)
		default:
			return i, slices.Contains(results[i+1:], nil), err
		}
	}
	return len(batch), false, nil
}

// settle removes the first published+failed messages of the batch (the
// published ones first), counting and reporting them (why: the failed
// ones' error), and makes room for blocked pushers.
func (q *Queue) settle(published, failed int, why error) {
	if published+failed == 0 {
		return
	}
	q.mu.Lock()
	if q.abandoned {
		q.mu.Unlock() // Close counted the whole batch as undelivered
		return
	}
	done := q.batch[:published+failed]
	q.report(done[:published], nil)
	q.report(done[published:], why)
	for _, e := range done {
		q.release(e)
	}
	n := len(q.batch)
	q.batch = append(q.batch[:0], q.batch[published+failed:]...)
	clear(q.batch[len(q.batch):n]) // let the moved-from slots go
	q.signalRoom()
	q.mu.Unlock()
}

// report tells the observer that es were published (err nil) or failed:
// one outcome per run of one channel, or per message when it times them.
func (q *Queue) report(es []entry, err error) {
	var now int64
	if q.timed && err == nil {
		now = nanotime()
	}
	for i := 0; i < len(es); {
		j := i + 1
		for !q.timed && j < len(es) && es[j].channel == es[i].channel {
			j++
		}
		o := q.outcome(es[i].channel, j-i, err)
		if err != nil {
			q.obs.Failed(o)
		} else {
			o.Latency = time.Duration(now - es[i].accepted())
			q.obs.Published(o)
		}
		i = j
	}
}

// retryable reports whether a send may succeed later: the broker is
// unreachable or an attempt timed out.
func retryable(err error) bool {
	return errors.Is(err, transport.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}
