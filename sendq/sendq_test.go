package sendq_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/sendq"
	"github.com/eventpub/eventpub/transport"
)

// heard is what a recorder heard.
type heard struct {
	accepted, published, dropped, retried int
	systems                               map[string]bool
	links                                 []bool
	depths                                int
	latency                               time.Duration
	lastDropErr                           error
}

// recorder is an Observer that keeps what it hears.
type recorder struct {
	mu sync.Mutex
	h  heard
}

func (r *recorder) add(n *int, o observe.Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	*n += o.Count
	if r.h.systems == nil {
		r.h.systems = map[string]bool{}
	}
	r.h.systems[o.System] = true
	if o.Latency > r.h.latency {
		r.h.latency = o.Latency
	}
	if o.Err != nil {
		r.h.lastDropErr = o.Err
	}
}
func (r *recorder) Accepted(o observe.Outcome)  { r.add(&r.h.accepted, o) }
func (r *recorder) Published(o observe.Outcome) { r.add(&r.h.published, o) }
func (r *recorder) Dropped(o observe.Outcome)   { r.add(&r.h.dropped, o) }
func (r *recorder) Failed(o observe.Outcome)    {}
func (r *recorder) Retried(o observe.Outcome)   { r.mu.Lock(); r.h.retried += o.Count; r.mu.Unlock() }
func (r *recorder) QueueDepth(string, int)      { r.mu.Lock(); r.h.depths++; r.mu.Unlock() }
func (r *recorder) Link(_ string, up bool, _ error) {
	r.mu.Lock()
	r.h.links = append(r.h.links, up)
	r.mu.Unlock()
}
func (r *recorder) WantsLatency() bool { return true }

func (r *recorder) snapshot() heard {
	r.mu.Lock()
	defer r.mu.Unlock()
	h := r.h
	h.links = append([]bool(nil), r.h.links...)
	return h
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("not within 10 s: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestQueueSendsThroughAnOutageAndReports(t *testing.T) {
	b := memory.NewBroker()
	tr := b.Connect()
	defer tr.Close()
	sub, err := tr.Subscribe(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{}
	q, err := sendq.New(tr, sendq.Config{Capacity: 100, Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	b.SetDown(true)
	for range 10 {
		if err := q.Push(context.Background(), transport.Message{Channel: "c", Payload: []byte("x")}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "a retry while down", func() bool { return rec.snapshot().retried > 0 })
	b.SetDown(false)
	waitFor(t, "10 published", func() bool { return q.Counters().Published == 10 })
	for range 10 {
		if _, err := sub.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if lost := q.Close(context.Background()); lost != 0 {
		t.Fatalf("Close lost %d", lost)
	}
	got := rec.snapshot()
	if got.accepted != 10 || got.published != 10 || got.depths == 0 || !got.systems["memory"] || len(got.systems) != 1 {
		t.Fatalf("observer heard %+v", got)
	}
	if len(got.links) != 2 || got.links[0] || !got.links[1] {
		t.Fatalf("link reports %v, want down then up", got.links)
	}
	if got.latency <= 0 {
		t.Fatalf("a Timing observer got no latency")
	}
	want := observe.Snapshot{Accepted: 10, Published: 10}
	if c := q.Counters(); c != want {
		t.Fatalf("Counters %+v, want %+v", c, want)
	}
}

func TestQueueDropNewestAndClose(t *testing.T) {
	b := memory.NewBroker()
	tr := b.Connect()
	defer tr.Close()
	b.SetDown(true)
	rec := &recorder{}
	reports := make(chan error, 10)
	q, err := sendq.New(tr, sendq.Config{Capacity: 2, Policy: sendq.DropNewest, Observer: rec,
		ErrorHandler: func(err error) { reports <- err }})
	if err != nil {
		t.Fatal(err)
	}
	push := func() error {
		return q.Push(context.Background(), transport.Message{Channel: "c", Payload: []byte("x")})
	}
	if push() != nil || push() != nil {
		t.Fatal("the first two pushes failed")
	}
	if err := push(); !errors.Is(err, sendq.ErrQueueFull) {
		t.Fatalf("third push = %v, want ErrQueueFull", err)
	}
	if r := rec.snapshot(); r.dropped != 1 || !errors.Is(r.lastDropErr, sendq.ErrQueueFull) {
		t.Fatalf("observer heard %+v, want one drop with ErrQueueFull", r)
	}
	// A retry notice (the sender meets the outage) may come first; the
	// drop's report is never held back by one.
	for found := false; !found; {
		select {
		case err := <-reports:
			found = strings.Contains(err.Error(), `on "c" dropped`) && errors.Is(err, sendq.ErrQueueFull)
		case <-time.After(10 * time.Second):
			t.Fatal("the error handler did not hear of the drop")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if lost := q.Close(ctx); lost != 2 {
		t.Fatalf("Close while down lost %d, want 2", lost)
	}
	want := observe.Snapshot{Accepted: 3, Dropped: 1, Failed: 2}
	if c := q.Counters(); c != want {
		t.Fatalf("Counters %+v, want %+v", c, want)
	}
	if err := push(); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("push after Close = %v, want ErrClosed", err)
	}
}

func TestConfigValidate(t *testing.T) {
	err := sendq.Config{Capacity: 0, Policy: 7, MaxBatch: -1}.Validate()
	for _, want := range []string{"eventpub/sendq:", "capacity must be at least 1, got 0", "OverflowPolicy(7)", "max batch -1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Validate = %v, want it to say %q", err, want)
		}
	}
	if _, err := sendq.New(nil, sendq.Config{Capacity: 1}); err == nil {
		t.Fatal("New(nil) did not fail")
	}
	if sendq.Block.String() != "Block" {
		t.Fatalf("Block.String() = %q", sendq.Block.String())
	}
}
