package eventpubotel_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/eventpubotel"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/memory"
	_ "github.com/eventpub/eventpub/nats"
	_ "github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

// target is a broker the scenario runs on: open returns a new transport
// to it (closed when the test ends).
type target struct {
	name, system string
	open         func(t *testing.T) transport.Transport
}

// targets returns the memory broker and NATS: the server named by
// EVENTPUB_NATS_URL when set, else an in-process nats-server.
func targets(t *testing.T) []target {
	br := memory.NewBroker()
	natsURL, natsName := brokertest.RealNATSURL(), "nats-real"
	if natsURL == "" {
		natsURL, natsName = brokertest.StartNATS(t).URL(), "nats-embedded"
	}
	return []target{
		{"memory", "memory", func(t *testing.T) transport.Transport {
			tr := br.Connect()
			t.Cleanup(func() { _ = tr.Close() })
			return tr
		}},
		{natsName, "nats", func(t *testing.T) transport.Transport { return brokertest.Open(t, natsURL) }},
	}
}

// TestMetricsAndSpans publishes a known sequence under a caller's span:
// 99 sync publishes and 1 async one confirmed, 3 dropped by DropNewest on
// the full async queue, 2 failed for an invalid channel. The metrics,
// the spans and the trace context a subscriber reads from each message's
// header must say exactly that.
func TestMetricsAndSpans(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) { scenario(t, tg) })
	}
}

func scenario(t *testing.T, tg target) {
	s := newSDK(t)
	ns := "otel" + brokertest.Unique()
	events, bad := ns+":events", ns+":bad\x01"
	sub := subscribeOn(t, tg.open(t), events)

	ctx, root := s.tp.Tracer("test").Start(context.Background(), "caller")
	syncPub := eventpub.New(tg.open(t), eventpub.WithNamespace(ns), eventpub.WithObserver(s.obs))
	for i := range 99 {
		if err := syncPub.PublishEvent(ctx, "tick", map[string]any{"i": i}); err != nil {
			t.Fatalf("publish %d: %v", i, err)
		}
	}
	for range 2 {
		if err := syncPub.Publish(ctx, bad, []byte("x")); !errors.Is(err, eventpub.ErrInvalidChannel) {
			t.Fatalf("publish to %q: %v, want ErrInvalidChannel", bad, err)
		}
	}
	g := newGated(tg.open(t))
	asyncPub := eventpub.New(g, eventpub.WithNamespace(ns), eventpub.WithAsync(1, eventpub.DropNewest),
		eventpub.WithObserver(s.obs))
	if err := asyncPub.PublishEvent(ctx, "tick", map[string]any{"i": 99}); err != nil {
		t.Fatalf("async publish: %v", err)
	}
	for range 3 { // the queue holds the first message until the gate opens
		if err := asyncPub.PublishEvent(ctx, "tick", nil); !errors.Is(err, eventpub.ErrQueueFull) {
			t.Fatalf("async publish on a full queue: %v, want ErrQueueFull", err)
		}
	}
	close(g.open)
	cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := asyncPub.Close(cctx); err != nil {
		t.Fatal(err)
	}
	if err := syncPub.Close(cctx); err != nil {
		t.Fatal(err)
	}
	root.End()

	checkMetrics(t, s, tg.system, events, bad)
	producers := checkSpans(t, s, root.SpanContext(), events, bad)
	for i := range 100 {
		m, err := sub.Next(cctx)
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		sc := trace.SpanContextFromContext(s.obs.Extract(context.Background(), m))
		if !sc.IsRemote() || sc.TraceID() != root.SpanContext().TraceID() || !producers[sc.SpanID()] {
			t.Fatalf("message %d: header %v gives span context %v, want a producer span of trace %v",
				i, m.Header, sc, root.SpanContext().TraceID())
		}
	}
}

func checkMetrics(t *testing.T, s *sdk, system, events, bad string) {
	t.Helper()
	got := s.collect(t)
	want := map[string]series{
		eventpubotel.MetricPublished: {attrs(system, events, "send", ""): 100},
		eventpubotel.MetricDuration:  {attrs(system, events, "send", ""): 100},
		eventpubotel.MetricFailed:    {attrs(system, bad, "send", "invalid_channel"): 2},
		eventpubotel.MetricDropped:   {attrs(system, events, "create", "queue_full"): 3},
		eventpubotel.MetricQueue:     {"messaging.system=" + system: 1},
	}
	for name, w := range want {
		if fmt.Sprint(got[name]) != fmt.Sprint(w) {
			t.Errorf("%s = %v\nwant %v", name, got[name], w)
		}
	}
	for _, name := range []string{eventpubotel.MetricRetried, eventpubotel.MetricLinkUp} {
		if len(got[name]) > 0 {
			t.Errorf("%s = %v, want no data (no retry, no outage)", name, got[name])
		}
	}
	if len(got) != len(want) {
		t.Errorf("metrics %v, want exactly those of %v", keys(got), keys(want))
	}
}

// checkSpans checks the ended spans and returns the ids of the producer
// spans whose context a message may carry.
func checkSpans(t *testing.T, s *sdk, root trace.SpanContext, events, bad string) map[trace.SpanID]bool {
	t.Helper()
	type kind struct {
		name   string
		errTyp string
	}
	counts := map[kind]int{}
	ids := map[trace.SpanID]bool{}
	for _, sp := range s.spans.Ended() {
		if sp.Name() == "caller" {
			continue
		}
		et := ""
		for _, a := range sp.Attributes() {
			if a.Key == "error.type" {
				et = a.Value.AsString()
			}
		}
		counts[kind{sp.Name(), et}]++
		if sp.SpanKind() != trace.SpanKindProducer || sp.Parent().SpanID() != root.SpanID() || sp.SpanContext().TraceID() != root.TraceID() {
			t.Errorf("span %s: kind %v parent %v, want a producer child of the caller's span", sp.Name(), sp.SpanKind(), sp.Parent())
		}
		if (et != "") != (sp.Status().Code == codes.Error) {
			t.Errorf("span %s: error.type %q but status %v", sp.Name(), et, sp.Status())
		}
		checkSpanAttrs(t, sp, events, bad, et)
		if et == "" {
			ids[sp.SpanContext().SpanID()] = true
		}
	}
	want := map[kind]int{
		{"publish " + events, ""}:             99,
		{"publish " + bad, "invalid_channel"}: 2,
		{"create " + events, ""}:              1,
		{"create " + events, "queue_full"}:    3,
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("spans by name and error.type: %v\nwant %v", counts, want)
	}
	return ids
}

func checkSpanAttrs(t *testing.T, sp sdktrace.ReadOnlySpan, events, bad, errType string) {
	t.Helper()
	got := attribute.NewSet(sp.Attributes()...)
	system, _ := got.Value("messaging.system")
	op, _ := got.Value("messaging.operation.type")
	dest, _ := got.Value("messaging.destination.name")
	want := attrs(system.AsString(), dest.AsString(), op.AsString(), errType)
	if attrString(got) != want || (dest.AsString() != events && dest.AsString() != bad) {
		t.Errorf("span %s attributes %s, want %s", sp.Name(), attrString(got), want)
	}
}

func keys(m map[string]series) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// subscribeOn subscribes tr to channels until the test ends.
func subscribeOn(t *testing.T, tr transport.Transport, channels ...string) transport.Subscription {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sub, err := tr.Subscribe(ctx, channels...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}
