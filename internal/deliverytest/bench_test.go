package deliverytest

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub"
)

// BenchmarkPublishEvent compares async PublishEvent from one goroutine with
// the sync path on each broker. The async figure includes draining the
// queue at the end (Close), so it measures delivery, not just enqueueing.
func BenchmarkPublishEvent(b *testing.B) {
	for _, be := range backends(b) {
		data := map[string]any{"repo": "CodeWorm", "target": "codeworm/core/events.py:EventPublisher", "tokens": 1834, "time_ms": 2310.5}
		for _, mode := range []string{"sync", "async"} {
			b.Run(be.name+"/"+mode, func(b *testing.B) {
				opts := []eventpub.Option{eventpub.WithNamespace(unique("bench"))}
				if mode == "async" {
					opts = append(opts, eventpub.WithAsync(1<<16, eventpub.Block))
				}
				pub := eventpub.New(be.dial(b, be.addr), opts...)
				ctx := context.Background()
				b.ReportAllocs()
				for b.Loop() {
					if err := pub.PublishEvent(ctx, "documentation_committed", data); err != nil {
						b.Fatal(err)
					}
				}
				if err := pub.Close(ctx); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}
