package eventpub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"regexp"
	"testing"
	"testing/slogtest"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/memory"
)

func TestSlogHandlerPassesSlogtest(t *testing.T) {
	var rec *memory.Recorder
	newHandler := func(t *testing.T) slog.Handler {
		mem := memory.New()
		rec = memory.NewRecorder(mem)
		pub := eventpub.New(mem)
		t.Cleanup(func() { rec.Close(); _ = pub.Close(context.Background()) })
		return eventpub.NewSlogHandler(pub, nil)
	}
	result := func(t *testing.T) map[string]any {
		msgs := rec.Messages("codeworm:logs")
		if len(msgs) != 1 {
			t.Fatalf("%d records published, want 1", len(msgs))
		}
		var m map[string]any
		if err := json.Unmarshal(msgs[0].Payload, &m); err != nil {
			t.Fatal(err)
		}
		// slogtest looks for slog's standard keys.
		m[slog.MessageKey] = m["event"]
		delete(m, "event")
		if ts, ok := m["timestamp"]; ok {
			m[slog.TimeKey] = ts
			delete(m, "timestamp")
		}
		return m
	}
	slogtest.Run(t, newHandler, result)
}

func TestSlogLoggerFeedsSubscriber(t *testing.T) {
	ctx := context.Background()
	b := memory.NewBroker()
	sub, err := b.Connect().Subscribe(ctx, "codeworm:logs")
	must(t, err)
	defer sub.Close()
	pub := eventpub.New(b.Connect())
	defer pub.Close(ctx)
	log := slog.New(eventpub.NewSlogHandler(pub, &eventpub.SlogOptions{Level: slog.LevelDebug})).
		With("component", "daemon").WithGroup("cycle")

	before := time.Now().UTC()
	log.Debug("skipped below level?", "n", 1)
	log.Warn("cycle complete", "num", 12, "took", 2*time.Second, slog.Group("repo", "name", "CodeWorm"))
	after := time.Now().UTC()

	got := make([][]byte, 0, 2)
	for len(got) < 2 {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		m, err := sub.Next(rctx)
		cancel()
		must(t, err)
		got = append(got, m.Payload)
	}
	ts := regexp.MustCompile(`"timestamp":"([^"]+)"`).FindSubmatch(got[1])
	if ts == nil {
		t.Fatalf("no timestamp in %s", got[1])
	}
	at, err := time.Parse("2006-01-02T15:04:05.000000Z", string(ts[1]))
	if err != nil || at.Before(before.Truncate(time.Microsecond)) || at.After(after) {
		t.Fatalf("timestamp %s not UTC microseconds between %v and %v (%v)", ts[1], before, after, err)
	}
	want := `{"component":"daemon","cycle":{"num":12,"repo":{"name":"CodeWorm"},"took":"2s"},"event":"cycle complete","level":"warning","timestamp":"` + string(ts[1]) + `"}`
	if string(got[1]) != want {
		t.Fatalf("got  %s\nwant %s", got[1], want)
	}
	if !bytes.Contains(got[0], []byte(`"level":"debug"`)) {
		t.Fatalf("debug record: %s", got[0])
	}
}

func TestSlogHonoursLevelAndNeverFails(t *testing.T) {
	ctx := context.Background()
	mem := memory.New()
	rec := memory.NewRecorder(mem)
	defer rec.Close()
	pub := eventpub.New(mem)
	h := eventpub.NewSlogHandler(pub, nil)
	if h.Enabled(ctx, slog.LevelDebug) || !h.Enabled(ctx, slog.LevelInfo) {
		t.Fatal("default level is not Info")
	}
	mem.Broker().SetDown(true)
	start := time.Now()
	if err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelError, "broker down", 0)); err != nil {
		t.Fatalf("Handle returned %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Handle waited %v while the broker was down", d)
	}
	must(t, pub.Close(ctx))
	if err := h.Handle(ctx, slog.NewRecord(time.Now(), slog.LevelError, "after close", 0)); err != nil {
		t.Fatalf("Handle after Close returned %v", err)
	}
	if m := pub.Metrics(); m.Failed != 1 {
		t.Fatalf("metrics %+v, want the failed record counted", m)
	}
}
