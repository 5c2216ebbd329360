package eventpubotel_test

import (
	"context"
	"testing"

	metricnoop "go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/eventpubotel"
	"github.com/eventpub/eventpub/internal/interleave"
	"github.com/eventpub/eventpub/memory"
)

// noopObserver is the adapter on no-op meter and tracer providers.
func noopObserver(tb testing.TB) *eventpubotel.Observer {
	tb.Helper()
	obs, err := eventpubotel.New(eventpubotel.WithMeterProvider(metricnoop.NewMeterProvider()),
		eventpubotel.WithTracerProvider(tracenoop.NewTracerProvider()))
	if err != nil {
		tb.Fatal(err)
	}
	return obs
}

// sdkObserver is the adapter on the OpenTelemetry SDK: metrics to a
// ManualReader, spans sampled and recorded but exported nowhere (a
// recorder would keep every span of the run).
// With tracing false the tracer provider is the no-op one: metrics alone.
func sdkObserver(tb testing.TB, tracing bool) *eventpubotel.Observer {
	tb.Helper()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	tb.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	var tp trace.TracerProvider = tracenoop.NewTracerProvider()
	if tracing {
		sdktp := sdktrace.NewTracerProvider()
		tb.Cleanup(func() { _ = sdktp.Shutdown(context.Background()) })
		tp = sdktp
	}
	obs, err := eventpubotel.New(eventpubotel.WithMeterProvider(mp), eventpubotel.WithTracerProvider(tp))
	if err != nil {
		tb.Fatal(err)
	}
	return obs
}

// committed is the data of CodeWorm's documentation_committed event.
func committed() map[string]any {
	return map[string]any{
		"commit": "1c8540d", "commit_message": "docs: EventPublisher", "doc_type": "class",
		"language": "python", "repo": "CodeWorm", "target": "codeworm/core/events.py:EventPublisher",
		"time_ms": 2310.5, "tokens": 1834,
	}
}

// BenchmarkPublishEvent is PublishEvent on the memory driver bare, with
// the adapter on no-op providers, with it on the OpenTelemetry SDK's
// metrics alone, and on the SDK's metrics and traces, side by side.
func BenchmarkPublishEvent(b *testing.B) {
	data := committed()
	for _, c := range []struct {
		name string
		opts func(b *testing.B) []eventpub.Option
	}{
		{"bare", func(*testing.B) []eventpub.Option { return nil }},
		{"otel-noop", func(b *testing.B) []eventpub.Option {
			return []eventpub.Option{eventpub.WithObserver(noopObserver(b))}
		}},
		{"otel-sdk-metrics", func(b *testing.B) []eventpub.Option {
			return []eventpub.Option{eventpub.WithObserver(sdkObserver(b, false))}
		}},
		{"otel-sdk", func(b *testing.B) []eventpub.Option {
			return []eventpub.Option{eventpub.WithObserver(sdkObserver(b, true))}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			pub := eventpub.New(memory.New(), c.opts(b)...)
			defer pub.Close(context.Background())
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := pub.PublishEvent(ctx, "documentation_committed", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPublishEventNoopInterleaved times PublishEvent on the memory
// driver bare and with the adapter on no-op providers in alternating
// blocks of 64 calls (which goes first alternates too), so both see the
// same machine load. An op is one block of each. It reports each one's ns
// per call and the median over the ops of the ratio otel/bare.
func BenchmarkPublishEventNoopInterleaved(b *testing.B) {
	data := committed()
	ctx := context.Background()
	pubs := [2]*eventpub.Publisher{
		eventpub.New(memory.New()),
		eventpub.New(memory.New(), eventpub.WithObserver(noopObserver(b))),
	}
	defer pubs[0].Close(ctx)
	defer pubs[1].Close(ctx)
	interleave.Blocks(b, 64, [2]string{"bare", "otel-noop"}, func(k int) error {
		return pubs[k].PublishEvent(ctx, "documentation_committed", data)
	})
}
