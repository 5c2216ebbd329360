package eventpubotel_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/eventpub/eventpub/eventpubotel"
	"github.com/eventpub/eventpub/transport"
)

// sdk is an Observer wired to the OpenTelemetry SDK with in-memory readers.
type sdk struct {
	obs    *eventpubotel.Observer
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	tp     *sdktrace.TracerProvider
}

func newSDK(t testing.TB) *sdk {
	t.Helper()
	s := &sdk{reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))
	s.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(s.spans))
	t.Cleanup(func() {
		_ = mp.Shutdown(context.Background())
		_ = s.tp.Shutdown(context.Background())
	})
	obs, err := eventpubotel.New(eventpubotel.WithMeterProvider(mp), eventpubotel.WithTracerProvider(s.tp))
	if err != nil {
		t.Fatal(err)
	}
	s.obs = obs
	return s
}

// series is one data point: its attributes (k=v, sorted, joined by ",")
// and its value (a sum, a gauge, or a histogram's count).
type series map[string]int64

// collect returns the data points of every metric by name.
func (s *sdk) collect(t testing.TB) map[string]series {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]series{}
	for _, sm := range rm.ScopeMetrics {
		if sm.Scope.Name != eventpubotel.ScopeName {
			t.Errorf("scope %q, want %q", sm.Scope.Name, eventpubotel.ScopeName)
		}
		for _, m := range sm.Metrics {
			ser := series{}
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if !d.IsMonotonic {
					t.Errorf("%s is not monotonic", m.Name)
				}
				for _, p := range d.DataPoints {
					ser[attrString(p.Attributes)] = p.Value
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					ser[attrString(p.Attributes)] = p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					ser[attrString(p.Attributes)] = int64(p.Count)
					if p.Count > 0 && p.Sum <= 0 {
						t.Errorf("%s %s: %d values summing to %v s", m.Name, attrString(p.Attributes), p.Count, p.Sum)
					}
				}
			default:
				t.Errorf("%s has data of type %T", m.Name, m.Data)
			}
			out[m.Name] = ser
		}
	}
	return out
}

func attrString(set attribute.Set) string {
	var kv []string
	for _, a := range set.ToSlice() {
		kv = append(kv, string(a.Key)+"="+a.Value.Emit())
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// attrs returns the attribute string of a series of system on channel.
func attrs(system, channel, op string, errType string) string {
	name := map[string]string{"send": "publish", "create": "create"}[op]
	kv := []string{"messaging.operation.name=" + name, "messaging.operation.type=" + op, "messaging.system=" + system}
	if channel != "" {
		kv = append(kv, "messaging.destination.name="+channel)
	}
	if errType != "" {
		kv = append(kv, "error.type="+errType)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

// gated passes messages to a transport, holding every publish while its
// gate is shut, so that an async queue in front of it stays full.
type gated struct {
	transport.Transport
	open chan struct{}
}

func newGated(t transport.Transport) *gated { return &gated{Transport: t, open: make(chan struct{})} }

func (g *gated) Publish(ctx context.Context, m transport.Message) error {
	select {
	case <-g.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	return g.Transport.Publish(ctx, m)
}

// Name keeps the wrapped transport's messaging.system.
func (g *gated) Name() string { return transport.SystemName(g.Transport) }

// Flush keeps the wrapped transport's confirmation, when it has one.
func (g *gated) Flush(ctx context.Context) error {
	if f, ok := g.Transport.(transport.Flusher); ok {
		return f.Flush(ctx)
	}
	return nil
}
