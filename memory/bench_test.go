package memory_test

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// BenchmarkFanOut4 publishes to four subscribers and reads each copy.
func BenchmarkFanOut4(b *testing.B) {
	tr := memory.New()
	b.Cleanup(func() { _ = tr.Close() })
	ctx := context.Background()
	subs := make([]transport.Subscription, 4)
	for i := range subs {
		s, err := tr.Subscribe(ctx, "codeworm:events")
		if err != nil {
			b.Fatal(err)
		}
		subs[i] = s
	}
	msg := transport.Message{Channel: "codeworm:events", Payload: make([]byte, 180)}
	b.ReportAllocs()
	b.SetBytes(180)
	for b.Loop() {
		if err := tr.Publish(ctx, msg); err != nil {
			b.Fatal(err)
		}
		for _, s := range subs {
			if _, err := s.Next(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPublishRecorded publishes with a Recorder attached (the
// recorder keeps every message, so memory grows with b.N).
func BenchmarkPublishRecorded(b *testing.B) {
	tr := memory.New()
	b.Cleanup(func() { _ = tr.Close() })
	rec := memory.NewRecorder(tr)
	b.Cleanup(rec.Close)
	msg := transport.Message{Channel: "codeworm:events", Payload: make([]byte, 180)}
	b.ReportAllocs()
	b.SetBytes(180)
	for b.Loop() {
		if err := tr.Publish(context.Background(), msg); err != nil {
			b.Fatal(err)
		}
	}
}
