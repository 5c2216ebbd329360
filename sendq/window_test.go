package sendq_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/sendq"
	"github.com/eventpub/eventpub/transport"
)

// starter is a transport.BatchStarter that stores what it is sent at once
// (a broker that stores on arrival) and confirms each batch when its Wait
// is called, after gate opens. fate, when set, decides the outcome of the
// k-th batch started (from 0): the messages of its batch that are stored,
// and Wait's error.
type starter struct {
	gate chan struct{} // Wait waits for it to be closed; nil: no wait
	fate func(k int, msgs []transport.Message) (store []bool, err error)

	mu          sync.Mutex
	stored      []int // the payloads (sequence numbers) in the order stored
	started     int   // batches started
	pending     int   // batches started and not yet waited for
	maxPending  int
	largest     int  // the most messages in one batch
	neverAckNow bool // Wait returns only when its context ends
}

type startedBatch struct {
	s   *starter
	err error
}

func (s *starter) store(m transport.Message) {
	n, err := strconv.Atoi(string(m.Payload))
	if err != nil {
		panic(err)
	}
	s.stored = append(s.stored, n)
}

func (s *starter) StartBatch(_ context.Context, msgs []transport.Message) transport.PendingBatch {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.started
	s.started++
	s.pending++
	s.maxPending = max(s.maxPending, s.pending)
	s.largest = max(s.largest, len(msgs))
	var store []bool
	var err error
	if s.fate != nil {
		store, err = s.fate(k, msgs)
	}
	for i, m := range msgs {
		if store == nil || store[i] {
			s.store(m)
		}
	}
	return &startedBatch{s: s, err: err}
}

func (b *startedBatch) Wait(ctx context.Context) error {
	s := b.s
	defer func() { s.mu.Lock(); s.pending--; s.mu.Unlock() }()
	s.mu.Lock()
	never := s.neverAckNow
	s.mu.Unlock()
	if never {
		<-ctx.Done()
		return transport.UnknownOutcome(ctx.Err())
	}
	if s.gate != nil {
		select {
		case <-s.gate:
		case <-ctx.Done():
			return transport.UnknownOutcome(ctx.Err())
		}
	}
	return b.err
}

func (s *starter) Publish(_ context.Context, m transport.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.store(m)
	return nil
}

func (s *starter) Subscribe(context.Context, ...string) (transport.Subscription, error) {
	return nil, errors.New("starter: no subscriptions")
}
func (s *starter) Ping(context.Context) error           { return nil }
func (s *starter) Capabilities() transport.Capabilities { return transport.Capabilities{Ordered: true} }
func (s *starter) Close() error                         { return nil }

func (s *starter) snapshot() (stored []int, maxPending, pending int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]int(nil), s.stored...), s.maxPending, s.pending
}

// pushN pushes the payloads "0" … "n-1".
func pushN(t *testing.T, q *sendq.Queue, n int) {
	t.Helper()
	for i := range n {
		if err := q.Push(context.Background(), transport.Message{Channel: "c", Payload: []byte(strconv.Itoa(i))}); err != nil {
			t.Fatal(err)
		}
	}
}

// checkOrder fails unless stored holds 0 … n-1 in order, duplicates and
// messages sent again aside: they are a subsequence of it.
func checkOrder(t *testing.T, stored []int, n int) {
	t.Helper()
	next := 0
	for _, m := range stored {
		if next < n && m == next {
			next++
		}
	}
	if next < n {
		t.Fatalf("message %d is missing or stored out of order (stored %v)", next, stored)
	}
}

func TestWindowKeepsOrderWithBatchesInFlight(t *testing.T) {
	s := &starter{gate: make(chan struct{})}
	q, err := sendq.New(s, sendq.Config{Capacity: 1000, MaxBatch: 4})
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	pushN(t, q, n)
	close(s.gate)
	if lost := q.Close(context.Background()); lost != 0 {
		t.Fatalf("Close lost %d", lost)
	}
	stored, maxPending, _ := s.snapshot()
	if len(stored) != n {
		t.Fatalf("stored %d messages, want %d once each", len(stored), n)
	}
	checkOrder(t, stored, n)
	if maxPending < 2 {
		t.Fatalf("at most %d batch in flight: the queue did not keep a window", maxPending)
	}
	if want := (observe.Snapshot{Accepted: n, Published: n}); q.Counters() != want {
		t.Fatalf("Counters %+v, want %+v", q.Counters(), want)
	}
}

// sized is a starter that prefers batches of 7 (sendq.BatchSizer).
type sized struct {
	*starter
	n int
}

func (s sized) PreferredBatch() int { return s.n }

// TestPreferredBatch: a transport's PreferredBatch sizes the batches when
// Config.MaxBatch is zero; a MaxBatch given wins (how a size above the
// default is kept: TestPreferredBatchSize).
func TestPreferredBatch(t *testing.T) {
	for _, c := range []struct{ preferred, capacity, maxBatch, want int }{
		{7, 1000, 0, 7},
		{7, 1000, 3, 3},
	} {
		s := &starter{gate: make(chan struct{})}
		q, err := sendq.New(sized{s, c.preferred}, sendq.Config{Capacity: c.capacity, MaxBatch: c.maxBatch})
		if err != nil {
			t.Fatal(err)
		}
		const n = 300 // more than the window holds: later batches are full
		pushN(t, q, n)
		close(s.gate)
		if lost := q.Close(context.Background()); lost != 0 {
			t.Fatalf("Close lost %d", lost)
		}
		s.mu.Lock()
		largest := s.largest
		s.mu.Unlock()
		if largest != c.want {
			t.Errorf("PreferredBatch %d, Capacity %d, MaxBatch %d: largest batch %d, want %d", c.preferred, c.capacity, c.maxBatch, largest, c.want)
		}
		stored, _, _ := s.snapshot()
		checkOrder(t, stored, n)
	}
}

func TestWindowFailureResendsFromThere(t *testing.T) {
	cut := errors.New("link cut")
	s := &starter{gate: make(chan struct{})}
	s.fate = func(k int, msgs []transport.Message) ([]bool, error) {
		if k != 2 {
			return nil, nil
		}
		// The third batch: its first message is stored, the rest is lost
		// with the link; the batches after it go through.
		store := make([]bool, len(msgs))
		store[0] = true
		return store, &transport.BatchError{Sent: 1, Err: transport.Unavailable(cut)}
	}
	rec := &recorder{}
	q, err := sendq.New(s, sendq.Config{Capacity: 1000, MaxBatch: 4, Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	pushN(t, q, n)
	close(s.gate)
	if lost := q.Close(context.Background()); lost != 0 {
		t.Fatalf("Close lost %d", lost)
	}
	stored, maxPending, _ := s.snapshot()
	checkOrder(t, stored, n)
	if maxPending < 2 {
		t.Fatalf("at most %d batch in flight: the failure was not in the middle of a window", maxPending)
	}
	if len(stored) <= n {
		t.Fatalf("stored %d messages: the batches after the failed one were not sent again", len(stored))
	}
	if want := (observe.Snapshot{Accepted: n, Published: n}); q.Counters() != want {
		t.Fatalf("Counters %+v, want %+v", q.Counters(), want)
	}
	if rec.snapshot().retried == 0 {
		t.Fatal("the observer heard of no retry")
	}
}

func TestWindowPermanentRefusalFailsOnlyThatMessage(t *testing.T) {
	s := &starter{gate: make(chan struct{})}
	s.fate = func(k int, msgs []transport.Message) ([]bool, error) {
		if k != 1 || len(msgs) < 2 {
			return nil, nil
		}
		store := make([]bool, len(msgs))
		results := make([]error, len(msgs))
		for i := range store {
			store[i] = i != 1
		}
		results[1] = transport.Invalid(transport.ErrPayloadTooLarge, "refused")
		return store, &transport.BatchError{Sent: 1, Results: results, Err: results[1]}
	}
	q, err := sendq.New(s, sendq.Config{Capacity: 1000, MaxBatch: 4})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	pushN(t, q, n)
	close(s.gate)
	if lost := q.Close(context.Background()); lost != 0 {
		t.Fatalf("Close lost %d", lost)
	}
	stored, _, _ := s.snapshot()
	if len(stored) != n-1 {
		t.Fatalf("stored %d messages, want %d (each once, the refused one not)", len(stored), n-1)
	}
	if want := (observe.Snapshot{Accepted: n, Published: n - 1, Failed: 1}); q.Counters() != want {
		t.Fatalf("Counters %+v, want %+v", q.Counters(), want)
	}
}

func TestWindowCloseWithBatchesInFlight(t *testing.T) {
	s := &starter{neverAckNow: true}
	q, err := sendq.New(s, sendq.Config{Capacity: 1000, MaxBatch: 4})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	pushN(t, q, n)
	waitFor(t, "batches in flight", func() bool { _, _, p := s.snapshot(); return p > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	lost := q.Close(ctx)
	if lost != n {
		t.Fatalf("Close lost %d, want all %d (none was confirmed)", lost, n)
	}
	if want := (observe.Snapshot{Accepted: n, Failed: n}); q.Counters() != want {
		t.Fatalf("Counters %+v, want %+v", q.Counters(), want)
	}
	// Every batch started was waited for before the sender exited.
	waitFor(t, "no batch left in flight", func() bool { _, _, p := s.snapshot(); return p == 0 })
}

func TestWindowShrinksToOneBatchAfterAFailure(t *testing.T) {
	s := &starter{}
	var down sync.Mutex // held: the broker is down
	isDown := true
	s.fate = func(k int, msgs []transport.Message) ([]bool, error) {
		down.Lock()
		defer down.Unlock()
		if isDown {
			return make([]bool, len(msgs)), transport.Unavailable(errors.New("down"))
		}
		return nil, nil
	}
	q, err := sendq.New(s, sendq.Config{Capacity: 1000, MaxBatch: 4})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100
	pushN(t, q, n)
	started := func() int { s.mu.Lock(); defer s.mu.Unlock(); return s.started }
	// A failed try, its window drained: the sender backs off.
	waitFor(t, "a failed try", func() bool { _, _, p := s.snapshot(); return started() >= 2 && p == 0 })
	s.mu.Lock()
	s.maxPending = 0
	s.mu.Unlock()
	from := started()
	waitFor(t, "three more tries", func() bool { return started() >= from+3 })
	if _, maxPending, _ := s.snapshot(); maxPending != 1 {
		t.Fatalf("%d batches in flight at once while every try fails, want 1", maxPending)
	}
	down.Lock()
	isDown = false
	down.Unlock()
	if lost := q.Close(context.Background()); lost != 0 {
		t.Fatalf("Close lost %d", lost)
	}
	stored, maxPending, _ := s.snapshot()
	checkOrder(t, stored, n)
	if len(stored) != n || maxPending < 2 {
		t.Fatalf("stored %d of %d, at most %d batches in flight: the window did not open again", len(stored), n, maxPending)
	}
}
