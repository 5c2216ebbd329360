package observe_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/observe"
)

func TestCountersAddUp(t *testing.T) {
	var c observe.Counters
	c.Accepted(observe.Outcome{Count: 10})
	c.Published(observe.Outcome{Count: 4})
	c.Dropped(observe.Outcome{Count: 1})
	c.Failed(observe.Outcome{Count: 2})
	c.Retried(observe.Outcome{Count: 7})
	want := observe.Snapshot{Accepted: 10, Published: 4, Dropped: 1, Failed: 2, Queued: 3}
	if got := c.Snapshot(); got != want {
		t.Fatalf("Snapshot = %+v, want %+v", got, want)
	}
	if c.Retries() != 7 {
		t.Fatalf("Retries = %d, want 7", c.Retries())
	}
}

// timer is an observer that wants latencies.
type timer struct{ observe.Nop }

func (timer) WantsLatency() bool { return true }

func TestMulti(t *testing.T) {
	if observe.Multi() != nil || observe.Multi(nil, nil) != nil {
		t.Fatal("Multi of no observer is not nil")
	}
	var a, b observe.Counters
	if observe.Multi(nil, &a) != observe.Observer(&a) {
		t.Fatal("Multi of one observer is not that observer")
	}
	m := observe.Multi(observe.Multi(&a, nil), observe.Multi(&b, observe.Nop{}))
	m.Accepted(observe.Outcome{Count: 2})
	m.Published(observe.Outcome{Count: 2})
	if a.Snapshot().Published != 2 || b.Snapshot().Accepted != 2 {
		t.Fatalf("Multi reached a=%+v b=%+v, want 2 each", a.Snapshot(), b.Snapshot())
	}
	if observe.Timed(m) {
		t.Fatal("Timed without a Timing observer")
	}
	if !observe.Timed(observe.Multi(&a, timer{})) || !observe.Timed(observe.Multi(observe.Multi(timer{}, &b), &a)) {
		t.Fatal("Timed misses a Timing observer inside Multi")
	}
}

func TestErrorReporterRateLimits(t *testing.T) {
	got := make(chan error, 10)
	r := observe.NewErrorReporter(func(err error) { got <- err }, 200*time.Millisecond)
	defer r.Close()
	cause := errors.New("refused")
	r.Failed(observe.Outcome{Channel: "c", Count: 1, Err: cause})
	first := <-got
	if !errors.Is(first, cause) || !strings.Contains(first.Error(), `message on "c" failed`) {
		t.Fatalf("first report %v", first)
	}
	for range 3 {
		r.Dropped(observe.Outcome{Channel: "c", Count: 1, Err: cause}) // held back
	}
	select {
	case err := <-got:
		t.Fatalf("a report within the interval: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	time.Sleep(200 * time.Millisecond)
	r.Report(cause)
	next := <-got
	if !errors.Is(next, cause) || !strings.Contains(next.Error(), "3 more failures") {
		t.Fatalf("report after the interval %q, want the 3 held back counted", next)
	}
}

func TestErrorReporterHandlerRunsOffTheCaller(t *testing.T) {
	var mu sync.Mutex
	mu.Lock() // a handler that blocks until the test lets it go
	r := observe.NewErrorReporter(func(error) { mu.Lock(); mu.Unlock() }, 0)
	for range 100 {
		r.Report(errors.New("x")) // must not block though the handler does
	}
	mu.Unlock()
	r.Close()
	r.Report(errors.New("after Close")) // ignored
	var nilR *observe.ErrorReporter
	nilR.Report(errors.New("x")) // a nil reporter ignores everything
	nilR.Close()
	if observe.NewErrorReporter(nil, time.Second) != nil {
		t.Fatal("NewErrorReporter(nil) is not nil")
	}
}

// tracer is an observer that traces.
type tracer struct{ observe.Nop }

func (tracer) StartPublish(ctx context.Context, p observe.Publish) (context.Context, map[string]string) {
	return ctx, p.Header
}
func (tracer) EndPublish(context.Context, error) {}

func TestTracerOf(t *testing.T) {
	var c observe.Counters
	tr := tracer{}
	if observe.TracerOf(&c) != nil || observe.TracerOf(nil) != nil || observe.TracerOf(observe.Multi(&c, observe.Nop{})) != nil {
		t.Fatal("TracerOf found a Tracer where there is none")
	}
	if observe.TracerOf(tr) != observe.Tracer(tr) || observe.TracerOf(observe.Multi(&c, observe.Multi(tr, &c))) != observe.Tracer(tr) {
		t.Fatal("TracerOf misses the Tracer")
	}
}
