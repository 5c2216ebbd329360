package eventpub_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// asyncOnDownBroker returns an async publisher on a broker that is down,
// and a subscriber to channel "c" on the same broker.
func asyncOnDownBroker(t *testing.T, capacity int, policy eventpub.OverflowPolicy, opts ...eventpub.Option) (*eventpub.Publisher, *memory.Broker, transport.Subscription) {
	t.Helper()
	b := memory.NewBroker(memory.WithBuffer(100000))
	sub, err := b.Connect().Subscribe(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	b.SetDown(true)
	pub := eventpub.New(b.Connect(), append([]eventpub.Option{eventpub.WithAsync(capacity, policy)}, opts...)...)
	t.Cleanup(func() {
		// Bounded: a test that failed with the broker still down must not
		// leave Close retrying for ever.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = pub.Close(ctx)
	})
	return pub, b, sub
}

// receive reads n messages and returns their payloads as numbers.
func receive(t *testing.T, sub transport.Subscription, n int) []int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := make([]int, 0, n)
	for len(out) < n {
		m, err := sub.Next(ctx)
		if err != nil {
			t.Fatalf("after %d of %d messages: %v", len(out), n, err)
		}
		v, err := strconv.Atoi(string(m.Payload))
		if err != nil {
			t.Fatalf("payload %q", m.Payload)
		}
		out = append(out, v)
	}
	return out
}

// expectNoMore checks that nothing else arrives for a short while.
func expectNoMore(t *testing.T, sub transport.Subscription) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if m, err := sub.Next(ctx); err == nil {
		t.Fatalf("unexpected extra message %q", m.Payload)
	}
}

func publishN(t *testing.T, pub *eventpub.Publisher, from, to int) (errs int) {
	t.Helper()
	for i := from; i < to; i++ {
		start := time.Now()
		err := pub.Publish(context.Background(), "c", []byte(strconv.Itoa(i)))
		// An async publish must not wait for the broker, which stays down
		// here; the bound is loose so that a loaded machine does not trip it.
		if d := time.Since(start); d > time.Second {
			t.Fatalf("async publish %d waited %v", i, d)
		}
		if err != nil {
			errs++
		}
	}
	return errs
}

func TestAsyncHoldsThroughOutageInOrder(t *testing.T) {
	pub, b, sub := asyncOnDownBroker(t, 5000, eventpub.DropNewest)
	if errs := publishN(t, pub, 0, 3000); errs != 0 {
		t.Fatalf("%d publishes failed while the queue had room", errs)
	}
	time.Sleep(50 * time.Millisecond) // the sender retries meanwhile
	b.SetDown(false)
	got := receive(t, sub, 3000)
	for i, v := range got {
		if v != i {
			t.Fatalf("message %d is %d: out of order or lost", i, v)
		}
	}
	must(t, pub.Close(context.Background()))
	if m := pub.Metrics(); m != (eventpub.Metrics{Accepted: 3000, Published: 3000}) {
		t.Fatalf("metrics %+v", m)
	}
}

func TestAsyncDropNewest(t *testing.T) {
	pub, b, sub := asyncOnDownBroker(t, 10, eventpub.DropNewest)
	var full int
	for i := 0; i < 30; i++ {
		if err := pub.Publish(context.Background(), "c", []byte(strconv.Itoa(i))); errors.Is(err, eventpub.ErrQueueFull) {
			full++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if full != 20 {
		t.Fatalf("%d calls saw ErrQueueFull, want 20", full)
	}
	b.SetDown(false)
	got := receive(t, sub, 10)
	for i, v := range got {
		if v != i {
			t.Fatalf("DropNewest delivered %v, want 0..9", got)
		}
	}
	expectNoMore(t, sub)
	must(t, pub.Close(context.Background()))
	if m := pub.Metrics(); m != (eventpub.Metrics{Accepted: 30, Published: 10, Dropped: 20}) {
		t.Fatalf("metrics %+v", m)
	}
}

func TestAsyncDropOldest(t *testing.T) {
	pub, b, sub := asyncOnDownBroker(t, 10, eventpub.DropOldest)
	if errs := publishN(t, pub, 0, 30); errs != 0 {
		t.Fatalf("%d DropOldest publishes returned errors", errs)
	}
	b.SetDown(false)
	got := receive(t, sub, 10)
	expectNoMore(t, sub)
	for i := 1; i < len(got); i++ {
		if got[i] <= got[i-1] {
			t.Fatalf("out of order: %v", got)
		}
	}
	// The newest messages survive: the last five were never the oldest waiting.
	if fmt.Sprint(got[5:]) != "[25 26 27 28 29]" {
		t.Fatalf("DropOldest delivered %v, want it to end with 25..29", got)
	}
	must(t, pub.Close(context.Background()))
	if m := pub.Metrics(); m != (eventpub.Metrics{Accepted: 30, Published: 10, Dropped: 20}) {
		t.Fatalf("metrics %+v", m)
	}
}

func TestAsyncBlock(t *testing.T) {
	pub, b, sub := asyncOnDownBroker(t, 2, eventpub.Block)
	publishN(t, pub, 0, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := pub.Publish(ctx, "c", []byte("2")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Block with a full queue: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- pub.Publish(context.Background(), "c", []byte("3")) }()
	select {
	case err := <-done:
		t.Fatalf("Block returned before there was room: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	b.SetDown(false)
	must(t, <-done)
	if got := fmt.Sprint(receive(t, sub, 3)); got != "[0 1 3]" {
		t.Fatalf("received %s", got)
	}
	must(t, pub.Close(context.Background()))
	if m := pub.Metrics(); m != (eventpub.Metrics{Accepted: 4, Published: 3, Dropped: 1}) {
		t.Fatalf("metrics %+v", m)
	}
}

func TestAsyncCloseWhileDownReportsLoss(t *testing.T) {
	pub, _, _ := asyncOnDownBroker(t, 100, eventpub.DropNewest)
	publishN(t, pub, 0, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := pub.Close(ctx)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Close took %v with a 100ms deadline", d)
	}
	var ce *eventpub.CloseError
	if !errors.As(err, &ce) || ce.Undelivered != 10 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close = %v, want 10 undelivered", err)
	}
	if m := pub.Metrics(); m != (eventpub.Metrics{Accepted: 10, Failed: 10}) {
		t.Fatalf("metrics %+v", m)
	}
	if err2 := pub.Close(context.Background()); err2 != err {
		t.Fatalf("second Close = %v, want the first result", err2)
	}
}

func TestAsyncBadMessageFailsAloneAndIsReported(t *testing.T) {
	b := memory.NewBroker(memory.WithMaxPayload(4))
	sub, err := b.Connect().Subscribe(context.Background(), "c")
	must(t, err)
	defer sub.Close()
	var reports []error
	var mu sync.Mutex
	pub := eventpub.New(b.Connect(), eventpub.WithAsync(100, eventpub.DropNewest),
		eventpub.WithErrorHandler(func(err error) { mu.Lock(); reports = append(reports, err); mu.Unlock() }))
	for _, p := range []string{"1", "too long", "3"} {
		must(t, pub.Publish(context.Background(), "c", []byte(p)))
	}
	must(t, pub.Close(context.Background()))
	if got := fmt.Sprint(receive(t, sub, 2)); got != "[1 3]" {
		t.Fatalf("received %s", got)
	}
	if m := pub.Metrics(); m != (eventpub.Metrics{Accepted: 3, Published: 2, Failed: 1}) {
		t.Fatalf("metrics %+v", m)
	}
	// The handler runs on its own goroutine: give it a moment.
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		n := len(reports)
		mu.Unlock()
		if n > 0 {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 1 || !errors.Is(reports[0], transport.ErrPayloadTooLarge) {
		t.Fatalf("reports %v, want one payload-too-large", reports)
	}
}

// TestAsyncErrorHandlerIsRateLimited: 90 drops and the retries of a
// broker that is down make, within an interval, one report of a loss and
// at most one retry notice (which may come first: it never holds a loss
// back), not one call per failure.
func TestAsyncErrorHandlerIsRateLimited(t *testing.T) {
	var mu sync.Mutex
	var reports []string
	pub, b, sub := asyncOnDownBroker(t, 10, eventpub.DropNewest,
		eventpub.WithErrorHandler(func(err error) {
			mu.Lock()
			reports = append(reports, err.Error())
			mu.Unlock()
		}))
	calls := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(reports)
	}
	publishN(t, pub, 0, 100) // 90 drops plus retries
	// The handler runs on a goroutine of its own: wait for its first call
	// (a loaded machine may take a while to schedule it), then see that
	// the failures of the next 300 ms add no second report of either kind.
	deadline := time.Now().Add(10 * time.Second)
	for len(calls()) == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	losses, retries := 0, 0
	for _, r := range calls() {
		switch {
		case strings.Contains(r, "dropped"):
			losses++
		case strings.Contains(r, "retrying"):
			retries++
		default:
			t.Fatalf("unexpected report %q", r)
		}
	}
	if losses != 1 || retries > 1 {
		t.Fatalf("error handler called with %q within a second: want one loss report and at most one retry notice", calls())
	}
	b.SetDown(false)
	receive(t, sub, 10)
}

func TestAsyncConcurrentPublishAndClose(t *testing.T) {
	b := memory.NewBroker()
	pub := eventpub.New(b.Connect(), eventpub.WithAsync(1000, eventpub.Block))
	var ok atomic.Uint64
	var wg sync.WaitGroup
	for g := 0; g < 64; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				err := pub.PublishEvent(context.Background(), "e", map[string]any{"i": i})
				if err == nil {
					ok.Add(1)
				} else if !errors.Is(err, eventpub.ErrClosed) {
					t.Errorf("publish: %v", err)
					return
				}
			}
		}()
	}
	time.Sleep(2 * time.Millisecond)
	must(t, pub.Close(context.Background()))
	wg.Wait()
	m := pub.Metrics()
	if m.Queued != 0 || m.Accepted != m.Published+m.Dropped+m.Failed {
		t.Fatalf("counters do not add up: %+v", m)
	}
	if m.Published != ok.Load() || m.Failed != 0 {
		t.Fatalf("%d calls succeeded but metrics say %+v", ok.Load(), m)
	}
}

// TestAsyncHandlerMayLogThroughThePublisher: an error handler that
// publishes through the same Publisher (as a slog handler on it would)
// does not stop delivery or hang Close.
func TestAsyncHandlerMayLogThroughThePublisher(t *testing.T) {
	var pub *eventpub.Publisher
	called := make(chan struct{}, 1)
	handler := func(err error) {
		select {
		case called <- struct{}{}:
		default:
		}
		_ = pub.PublishLog(context.Background(), map[string]any{"event": err.Error()})
	}
	var b *memory.Broker
	var sub transport.Subscription
	// Room for the two messages and the handler's first log line: the
	// handler may be called (the first retry) before the second publish,
	// and with room for two only, its log line would take the last slot
	// and block the test's own publish until the broker is back.
	pub, b, sub = asyncOnDownBroker(t, 3, eventpub.Block, eventpub.WithErrorHandler(handler))
	publishN(t, pub, 0, 2)
	select {
	case <-called:
	case <-time.After(5 * time.Second):
		t.Fatal("the error handler was not called while the broker was down")
	}
	b.SetDown(false)
	if got := fmt.Sprint(receive(t, sub, 2)); got != "[0 1]" {
		t.Fatalf("received %s", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := pub.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// partial is a transport whose PublishBatch refuses payloads "bad" but
// sends the rest, and says so per message, as a pipelining driver does.
type partial struct{ *memory.Transport }

func (p partial) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	results := make([]error, len(msgs))
	failed := false
	for i, m := range msgs {
		if string(m.Payload) == "bad" {
			results[i], failed = transport.ErrPayloadTooLarge, true
			continue
		}
		results[i] = p.Publish(ctx, m)
	}
	if !failed {
		return nil
	}
	sent := 0
	for sent < len(results) && results[sent] == nil {
		sent++
	}
	return &transport.BatchError{Sent: sent, Results: results, Err: transport.ErrPayloadTooLarge}
}

func TestAsyncBatchResultsSettleEachMessageOnce(t *testing.T) {
	b := memory.NewBroker()
	rec := memory.NewRecorder(b.Connect())
	defer rec.Close()
	b.SetDown(true) // let the queue fill so the batch holds all five
	pub := eventpub.New(partial{b.Connect()}, eventpub.WithAsync(100, eventpub.DropNewest))
	for _, p := range []string{"1", "bad", "3", "bad", "5"} {
		must(t, pub.Publish(context.Background(), "c", []byte(p)))
	}
	b.SetDown(false)
	must(t, pub.Close(context.Background()))
	var got []string
	for _, m := range rec.Messages("c") {
		got = append(got, string(m.Payload))
	}
	if fmt.Sprint(got) != "[1 3 5]" {
		t.Fatalf("delivered %v, want [1 3 5] once each", got)
	}
	if m := pub.Metrics(); m != (eventpub.Metrics{Accepted: 5, Published: 3, Failed: 2}) {
		t.Fatalf("metrics %+v", m)
	}
}

// TestAsyncHandlerCallingCloseDoesNotHangClose: a handler that closes the
// Publisher (say, on an auth error) does not deadlock the Close it races.
func TestAsyncHandlerCallingCloseDoesNotHangClose(t *testing.T) {
	var pub *eventpub.Publisher
	inHandler := make(chan struct{})
	var once sync.Once
	handler := func(error) {
		once.Do(func() { close(inHandler) }) // it may be called again during cleanup
		_ = pub.Close(context.Background())  // waits for the outer Close
	}
	pub, _, _ = asyncOnDownBroker(t, 10, eventpub.DropNewest, eventpub.WithErrorHandler(handler))
	publishN(t, pub, 0, 1)
	<-inHandler
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- pub.Close(ctx) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close hung on a handler that calls Close")
	}
}
