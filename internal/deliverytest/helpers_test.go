package deliverytest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/transport"
)

// collector reads event sequence numbers from a subscription until stopped.
type collector struct {
	mu      sync.Mutex
	seqs    []int
	markers int // payloads marked {"marker":true}, sent to see the subscriber is there
	done    chan struct{}
	stop    context.CancelFunc
}

func collect(t *testing.T, sub transport.Subscription) *collector {
	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{done: make(chan struct{}), stop: cancel}
	go func() {
		defer close(c.done)
		for {
			m, err := sub.Next(ctx)
			if err != nil {
				return
			}
			if bytes.Contains(m.Payload, []byte(`"marker":true`)) {
				c.mu.Lock()
				c.markers++
				c.mu.Unlock()
				continue
			}
			n, ok := seqOf(m.Payload)
			if !ok {
				t.Errorf("payload without seq: %s", m.Payload)
				continue
			}
			c.mu.Lock()
			c.seqs = append(c.seqs, n)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); <-c.done })
	return c
}

// waitFor waits until n sequence numbers arrived or timeout passed, then
// stops and returns what arrived.
func (c *collector) waitFor(n int, timeout time.Duration) []int {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		got := len(c.seqs)
		c.mu.Unlock()
		if got >= n {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // let duplicates, if any, show up
	c.stop()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.seqs...)
}

func (c *collector) markerCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.markers
}

// waitForSeq waits until sequence number seq arrived or timeout passed,
// then stops and returns what arrived.
func (c *collector) waitForSeq(seq int, timeout time.Duration) []int {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		got := slices.Contains(c.seqs, seq)
		c.mu.Unlock()
		if got {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c.waitFor(0, 0)
}

// waitForSet is waitFor that counts distinct sequence numbers, so
// duplicates do not end the wait early.
func (c *collector) waitForSet(n int, timeout time.Duration) []int {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c.mu.Lock()
		distinct := make(map[int]struct{}, len(c.seqs))
		for _, s := range c.seqs {
			distinct[s] = struct{}{}
		}
		c.mu.Unlock()
		if len(distinct) >= n {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c.waitFor(0, 0)
}

// seqOf finds "seq":N in an event payload.
func seqOf(p []byte) (int, bool) {
	i := bytes.Index(p, []byte(`"seq":`))
	if i < 0 {
		return 0, false
	}
	p = p[i+6:]
	j := 0
	for j < len(p) && p[j] >= '0' && p[j] <= '9' {
		j++
	}
	n, err := strconv.Atoi(string(p[:j]))
	return n, err == nil
}

// paced publishes events seq 0..n-1 at a steady rate (burst every tick)
// and calls at(seq) before publishing seq, so a test can cut the link at a
// given point. It returns how long the calls took and the seqs whose call
// failed.
func paced(t *testing.T, pub *eventpub.Publisher, n, burst int, tick time.Duration, at func(seq int)) (calls callStats, failed map[int]error) {
	failed = map[int]error{}
	ctx := context.Background()
	next := time.Now()
	for seq := 0; seq < n; seq++ {
		if seq%burst == 0 {
			next = next.Add(tick)
			if d := time.Until(next); d > 0 {
				time.Sleep(d)
			} else if d < -10*tick {
				// The process was held (CPU starvation, GC): go on at the
				// steady rate rather than burst to catch up, which would
				// overflow a queue no broker fault filled.
				next = time.Now()
			}
		}
		if at != nil {
			at(seq)
		}
		start := time.Now()
		err := pub.PublishEvent(ctx, "tick", map[string]any{"seq": seq})
		d := time.Since(start)
		calls.n++
		calls.slowest = max(calls.slowest, d)
		if d > slowCall {
			calls.slow++
		}
		if err != nil {
			failed[seq] = err
		}
	}
	return calls, failed
}

// Async publish calls never wait for the broker: they touch only the
// queue, whose lock the sender never holds across a driver call. On a
// machine starved of CPU (other jobs, -race, GC assists) any one call can
// still be held for a while: a CPU hog beside the suite held single calls
// for 80 ms to 1.7 s. So the check counts: few calls over slowCall (calls
// that waited for the broker would be thousands, every call of a 3 s
// outage), and none as long as the outage itself (maxCall).
const (
	maxCall  = 2500 * time.Millisecond
	slowCall = 50 * time.Millisecond
)

// callStats says how long a run of publish calls took.
type callStats struct {
	n       int
	slowest time.Duration
	slow    int // calls over slowCall
}

// ok reports whether no call waited for the broker.
func (c callStats) ok() bool { return c.slowest < maxCall && c.slow <= max(25, c.n/100) }

func (c callStats) String() string {
	return fmt.Sprintf("%d calls, %d over %v, slowest %v", c.n, c.slow, slowCall, c.slowest)
}

// checkInOrderOnce fails unless seqs is strictly increasing.
func checkInOrderOnce(t *testing.T, seqs []int) {
	t.Helper()
	for i := 1; i < len(seqs); i++ {
		if seqs[i] <= seqs[i-1] {
			t.Fatalf("message %d has seq %d after %d: duplicated or out of order", i, seqs[i], seqs[i-1])
		}
	}
}

// checkDelivery checks what a subscriber received from one publisher and
// returns it without duplicates, and how many duplicates there were. The
// async queue is at least once: a batch whose confirmation did not come (a
// lost ack, a read timeout on a machine starved of CPU, a failed core-NATS
// flush) is sent again, so duplicates are allowed, counted and logged; the
// first arrival of each message must still be in order.
func checkDelivery(t *testing.T, b backend, seqs []int) (firsts []int, dups int) {
	t.Helper()
	seen := make(map[int]bool, len(seqs))
	for _, s := range seqs {
		if !seen[s] {
			seen[s] = true
			firsts = append(firsts, s)
		}
	}
	dups = len(seqs) - len(firsts)
	if dups > 0 {
		t.Logf("%s: %d duplicates among %d messages received", b.name, dups, len(seqs))
	}
	checkInOrderOnce(t, firsts)
	return firsts, dups
}

// checkMetricsAddUp fails unless the counters add up with nothing queued.
func checkMetricsAddUp(t *testing.T, m eventpub.Metrics) {
	t.Helper()
	if m.Queued != 0 || m.Accepted != m.Published+m.Dropped+m.Failed {
		t.Fatalf("counters do not add up: %+v", m)
	}
}

func isQueueFull(err error) bool { return errors.Is(err, eventpub.ErrQueueFull) }
