package eventpub_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

var fixed = time.Date(2026, 2, 19, 13, 29, 0, 123456000, time.Local)

func clock() time.Time { return fixed }

// newRecorded returns a publisher on a fresh memory broker and a recorder of it.
func newRecorded(t *testing.T, opts ...eventpub.Option) (*eventpub.Publisher, *memory.Recorder, *memory.Transport) {
	t.Helper()
	mem := memory.New()
	rec := memory.NewRecorder(mem)
	pub := eventpub.New(mem, append([]eventpub.Option{eventpub.WithClock(clock)}, opts...)...)
	t.Cleanup(func() {
		rec.Close()
		_ = pub.Close(context.Background())
	})
	return pub, rec, mem
}

func TestNamespace(t *testing.T) {
	ctx := context.Background()
	pub, rec, _ := newRecorded(t, eventpub.WithNamespace("svc"))
	if l, e, s := pub.Channels(); l != "svc:logs" || e != "svc:events" || s != "svc:stats" {
		t.Fatalf("channels %q %q %q", l, e, s)
	}
	must(t, pub.PublishLog(ctx, map[string]any{"event": "x"}))
	must(t, pub.PublishEvent(ctx, "t", nil))
	must(t, pub.PublishStats(ctx, nil))
	for _, ch := range []string{"svc:logs", "svc:events", "svc:stats"} {
		if n := len(rec.Messages(ch)); n != 1 {
			t.Errorf("%d messages on %s, want 1", n, ch)
		}
	}
}

func TestUTCTimestamps(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 2, 19, 14, 29, 0, 0, time.FixedZone("CET", 3600))
	pub, rec, _ := newRecorded(t, eventpub.WithUTC(), eventpub.WithClock(func() time.Time { return at }))
	must(t, pub.PublishEvent(ctx, "t", nil))
	want := `{"type":"t","timestamp":"2026-02-19T13:29:00+00:00","data":{}}`
	if got := string(rec.Messages("codeworm:events")[0].Payload); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

func TestStatsTimestampOfAnyType(t *testing.T) {
	ctx := context.Background()
	pub, rec, _ := newRecorded(t)
	must(t, pub.PublishStats(ctx, map[string]any{"timestamp": 17, "b": 2, "a": 1}))
	want := `{"timestamp":17,"a":1,"b":2}`
	if got := string(rec.Messages("codeworm:stats")[0].Payload); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
}

func TestRawPublishKeepsBytesAndNotTheBuffer(t *testing.T) {
	ctx := context.Background()
	pub, rec, _ := newRecorded(t)
	buf := []byte{0xff, 0x00, 'a'}
	must(t, pub.Publish(ctx, "raw", buf))
	buf[0] = 'X' // the caller reuses its buffer
	if got := rec.Messages("raw")[0].Payload; string(got) != "\xff\x00a" {
		t.Fatalf("got %q", got)
	}
}

func TestBadInputGivesClearErrors(t *testing.T) {
	ctx := context.Background()
	nilPub := eventpub.New(nil)
	err := nilPub.PublishLog(ctx, nil)
	if err == nil || !strings.Contains(err.Error(), "nil transport") {
		t.Fatalf("nil transport: %v", err)
	}
	if err := nilPub.Close(ctx); err != nil {
		t.Fatalf("Close of a publisher without transport: %v", err)
	}

	pub, _, _ := newRecorded(t)
	err = pub.Publish(ctx, "", []byte("x"))
	if !errors.Is(err, eventpub.ErrInvalidChannel) || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("empty channel: %v", err)
	}

	bad := eventpub.New(memory.New(), eventpub.WithAsync(0, eventpub.DropNewest))
	defer bad.Close(ctx)
	if err := bad.PublishLog(ctx, nil); err == nil || !strings.Contains(err.Error(), "capacity") {
		t.Fatalf("async capacity 0: %v", err)
	}
	if _, err := eventpub.Open(ctx, "memory://x", eventpub.WithClock(nil)); err == nil || !strings.Contains(err.Error(), "WithClock") {
		t.Fatalf("Open with a nil clock: %v", err)
	}
	_, err = eventpub.Open(ctx, "nosuch://user:hunter2@host")
	if err == nil || !strings.Contains(err.Error(), "memory") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("unknown scheme: %v", err)
	}

	small := eventpub.New(memory.New(memory.WithMaxPayload(8)))
	defer small.Close(ctx)
	if err := small.Publish(ctx, "c", make([]byte, 9)); !errors.Is(err, transport.ErrPayloadTooLarge) {
		t.Fatalf("payload over the limit: %v", err)
	}
	if err := small.Publish(ctx, "c", make([]byte, 8)); err != nil {
		t.Fatalf("payload at the limit after a refusal: %v", err)
	}
}

func TestClosedAndCancelled(t *testing.T) {
	pub, _, _ := newRecorded(t)
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := pub.PublishLog(cancelled, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: %v", err)
	}
	must(t, pub.Close(context.Background()))
	must(t, pub.Close(context.Background()))
	if err := pub.PublishEvent(context.Background(), "t", nil); !errors.Is(err, eventpub.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}

func TestSyncMetrics(t *testing.T) {
	ctx := context.Background()
	pub, _, mem := newRecorded(t)
	for i := 0; i < 5; i++ {
		must(t, pub.PublishLog(ctx, nil))
	}
	mem.Broker().SetDown(true)
	if err := pub.PublishLog(ctx, nil); !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("broker down: %v", err)
	}
	want := eventpub.Metrics{Accepted: 6, Published: 5, Failed: 1}
	if m := pub.Metrics(); m != want {
		t.Fatalf("metrics %+v, want %+v", m, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestPublishMessageCarriesHeaderAndKeepOpen(t *testing.T) {
	ctx := context.Background()
	for _, async := range []bool{false, true} {
		mem := memory.New()
		rec := memory.NewRecorder(mem)
		opts := []eventpub.Option{eventpub.WithKeepOpen()}
		if async {
			opts = append(opts, eventpub.WithAsync(10, eventpub.Block))
		}
		pub := eventpub.New(mem, opts...)
		h := map[string]string{"k": "v"}
		p := []byte("payload")
		must(t, pub.PublishMessage(ctx, transport.Message{Channel: "c", Payload: p, Header: h}))
		h["k"], p[0] = "changed", 'X' // the caller reuses both
		must(t, pub.Close(ctx))
		got := rec.Messages("c")
		if len(got) != 1 || string(got[0].Payload) != "payload" || got[0].Header["k"] != "v" {
			t.Fatalf("async=%v: recorded %+v", async, got)
		}
		if err := mem.Ping(ctx); err != nil {
			t.Fatalf("async=%v: WithKeepOpen closed the transport: %v", async, err)
		}
		if err := pub.PublishMessage(ctx, transport.Message{Channel: "c"}); !errors.Is(err, eventpub.ErrClosed) {
			t.Fatalf("after Close: %v", err)
		}
		rec.Close()
		_ = mem.Close()
	}
}

func TestMessageIDs(t *testing.T) {
	ctx := context.Background()
	pub, rec, _ := newRecorded(t, eventpub.WithMessageIDs())
	must(t, pub.PublishEvent(ctx, "t", nil))
	own := map[string]string{"k": "v"}
	must(t, pub.PublishMessage(ctx, transport.Message{Channel: "codeworm:events", Payload: []byte("x"), Header: own}))
	msgs := rec.Messages("codeworm:events")
	if len(msgs) != 2 {
		t.Fatalf("recorded %d messages", len(msgs))
	}
	id0, id1 := msgs[0].Header[transport.HeaderMessageID], msgs[1].Header[transport.HeaderMessageID]
	if id0 == "" || id1 == "" || id0 == id1 {
		t.Fatalf("message ids %q and %q: want two different ones", id0, id1)
	}
	if msgs[1].Header["k"] != "v" || len(own) != 1 {
		t.Fatalf("the caller's header: recorded %v, caller's map now %v", msgs[1].Header, own)
	}
}
