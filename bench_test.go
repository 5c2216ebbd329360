package eventpub_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// discard is a transport that takes every message and drops it, so a
// benchmark measures the Publisher alone.
type discard struct{ n int }

func (d *discard) Publish(_ context.Context, m transport.Message) error {
	d.n += len(m.Payload)
	return nil
}
func (d *discard) Subscribe(context.Context, ...string) (transport.Subscription, error) {
	return nil, transport.ErrClosed
}
func (d *discard) Ping(context.Context) error           { return nil }
func (d *discard) Capabilities() transport.Capabilities { return transport.Capabilities{} }
func (d *discard) Close() error                         { return nil }

// committed is the data of CodeWorm's documentation_committed event.
func committed() map[string]any {
	return map[string]any{
		"commit": "1c8540d", "commit_message": "docs: EventPublisher", "doc_type": "class",
		"language": "python", "repo": "CodeWorm", "target": "codeworm/core/events.py:EventPublisher",
		"time_ms": 2310.5, "tokens": 1834,
	}
}

// BenchmarkEncodeEvent compares PublishEvent (envelope, timestamp and orjson
// bytes, into a transport that discards) with encoding/json writing the same
// envelope map with SetEscapeHTML(false) into a reused buffer.
func BenchmarkEncodeEvent(b *testing.B) {
	data := committed()
	b.Run("eventpub", func(b *testing.B) {
		pub := eventpub.New(&discard{})
		ctx := context.Background()
		b.ReportAllocs()
		for b.Loop() {
			if err := pub.PublishEvent(ctx, "documentation_committed", data); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding_json", func(b *testing.B) {
		env := map[string]any{
			"type":      "documentation_committed",
			"timestamp": time.Now().Format("2006-01-02T15:04:05.000000"),
			"data":      data,
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(env); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkMemoryRoundTrip publishes an event through the memory driver and
// receives it on one subscriber.
func BenchmarkMemoryRoundTrip(b *testing.B) {
	ctx := context.Background()
	br := memory.NewBroker()
	sub, err := br.Connect().Subscribe(ctx, "codeworm:events")
	if err != nil {
		b.Fatal(err)
	}
	defer sub.Close()
	pub := eventpub.New(br.Connect())
	defer pub.Close(ctx)
	data := committed()
	b.ReportAllocs()
	for b.Loop() {
		if err := pub.PublishEvent(ctx, "documentation_committed", data); err != nil {
			b.Fatal(err)
		}
		if _, err := sub.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
