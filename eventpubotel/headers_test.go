package eventpubotel_test

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// TestHeaderCopied: the trace context and baggage go in a copy of the
// caller's header; the caller's map is left as it was.
func TestHeaderCopied(t *testing.T) {
	s := newSDK(t)
	br := memory.NewBroker()
	sub := subscribeOn(t, br.Connect(), "ch")
	pub := eventpub.New(br.Connect(), eventpub.WithObserver(s.obs))
	defer pub.Close(context.Background())

	member, _ := baggage.NewMember("tenant", "acme")
	bag, _ := baggage.New(member)
	ctx, root := s.tp.Tracer("test").Start(baggage.ContextWithBaggage(context.Background(), bag), "caller")
	header := map[string]string{"k": "v"}
	if err := pub.PublishMessage(ctx, transport.Message{Channel: "ch", Payload: []byte("p"), Header: header}); err != nil {
		t.Fatal(err)
	}
	root.End()
	if len(header) != 1 {
		t.Fatalf("the caller's header became %v", header)
	}
	m, err := sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header["k"] != "v" || m.Header["traceparent"] == "" || m.Header["baggage"] != "tenant=acme" {
		t.Fatalf("received header %v, want k, traceparent and baggage", m.Header)
	}
	// Header keys may come back in another case (NATS, MQTT user properties).
	upper := map[string]string{"Traceparent": m.Header["traceparent"], "BAGGAGE": m.Header["baggage"]}
	got := s.obs.Extract(context.Background(), transport.Message{Header: upper})
	if sc := trace.SpanContextFromContext(got); sc.TraceID() != root.SpanContext().TraceID() {
		t.Fatalf("Extract with upper-case keys: trace %v, want %v", sc.TraceID(), root.SpanContext().TraceID())
	}
	if v := baggage.FromContext(got).Member("tenant").Value(); v != "acme" {
		t.Fatalf("Extract: baggage tenant=%q, want acme", v)
	}
	if ctx := context.Background(); s.obs.Extract(ctx, transport.Message{}) != ctx {
		t.Fatal("Extract of a message without header changed the context")
	}
}

// TestRedisCarriesNoContext: Redis pub/sub has no headers, so the message
// arrives as the Publisher encoded it, byte for byte, and carries no trace
// context, while the span is still recorded.
func TestRedisCarriesNoContext(t *testing.T) {
	urls := []string{brokertest.StartMiniredis(t).URL()}
	if u := brokertest.RealRedisURL(); u != "" {
		urls = append(urls, u)
	}
	for _, url := range urls {
		s := newSDK(t)
		ch := "otel" + brokertest.Unique() + ":raw"
		sub := subscribeOn(t, brokertest.Open(t, url), ch)
		pub := eventpub.New(brokertest.Open(t, url), eventpub.WithObserver(s.obs), eventpub.WithKeepOpen())
		ctx, root := s.tp.Tracer("test").Start(context.Background(), "caller")
		payload := []byte(`{"type":"x","data":{}}`)
		if err := pub.PublishMessage(ctx, transport.Message{Channel: ch, Payload: payload, Header: map[string]string{"k": "v"}}); err != nil {
			t.Fatal(err)
		}
		root.End()
		rctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		m, err := sub.Next(rctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		if string(m.Payload) != string(payload) || len(m.Header) != 0 {
			t.Fatalf("%s: received %q with header %v, want the payload unchanged and no header", transport.Redact(url), m.Payload, m.Header)
		}
		if sc := trace.SpanContextFromContext(s.obs.Extract(context.Background(), m)); sc.IsValid() {
			t.Fatalf("a Redis message gave a span context %v", sc)
		}
		if n := len(s.spans.Ended()); n != 2 {
			t.Fatalf("%d spans ended, want the caller's and the publish", n)
		}
		_ = pub.Close(context.Background())
	}
}

// TestMetricsAddNoAllocation: with no-op providers, and with the SDK's
// metrics (tracing off), the adapter adds no allocation to PublishEvent
// (the benchmark compares the time).
func TestMetricsAddNoAllocation(t *testing.T) {
	ctx := context.Background()
	data := committed()
	run := func(p *eventpub.Publisher) float64 {
		defer p.Close(ctx)
		return testing.AllocsPerRun(200, func() {
			if err := p.PublishEvent(ctx, "documentation_committed", data); err != nil {
				t.Fatal(err)
			}
		})
	}
	bare := run(eventpub.New(memory.New()))
	withObs := run(eventpub.New(memory.New(), eventpub.WithObserver(noopObserver(t))))
	withSDK := run(eventpub.New(memory.New(), eventpub.WithObserver(sdkObserver(t, false))))
	if withObs != bare || withSDK != bare {
		t.Fatalf("allocations per PublishEvent: %v bare, %v with the adapter on no-op providers, %v on the SDK's metrics",
			bare, withObs, withSDK)
	}
}
