package eventpubotel_test

import (
	"context"
	"fmt"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/eventpubotel"
	"github.com/eventpub/eventpub/memory"
)

// Example wires a Publisher to the OpenTelemetry SDK (a MeterProvider with
// a ManualReader; a service would use a periodic reader and an exporter,
// or the Prometheus exporter) and reads the metrics back.
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer mp.Shutdown(ctx)

	obs, err := eventpubotel.New(eventpubotel.WithMeterProvider(mp))
	if err != nil {
		panic(err)
	}
	pub := eventpub.New(memory.New(), eventpub.WithObserver(obs))
	for range 3 {
		_ = pub.PublishEvent(ctx, "documentation_committed", map[string]any{"tokens": 1834})
	}
	_ = pub.Publish(ctx, "bad\x00channel", []byte("x")) // refused: invalid channel
	_ = pub.Close(ctx)

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		panic(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch d := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, p := range d.DataPoints {
				dest, _ := p.Attributes.Value("messaging.destination.name")
				errType, _ := p.Attributes.Value("error.type")
				fmt.Printf("%s %q %s %d\n", m.Name, dest.AsString(), errType.AsString(), p.Value)
			}
		case metricdata.Histogram[float64]:
			for _, p := range d.DataPoints {
				fmt.Printf("%s (%s) %d publishes timed\n", m.Name, m.Unit, p.Count)
			}
		}
	}
	// Output:
	// eventpub.messages.published "codeworm:events"  3
	// eventpub.messages.failed "bad\x00channel" invalid_channel 1
	// messaging.client.operation.duration (s) 3 publishes timed
}
