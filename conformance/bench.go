package conformance

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub/transport"
)

// benchPayloadSize is a typical encoded event.
const benchPayloadSize = 180

// RunBenchmarks measures a driver under h.Name: Publish alone and in
// parallel (to a channel nobody subscribes to: the cost of the send path),
// a Publish→Next round trip with one subscriber, and PublishBatch of 64
// messages when the transport implements transport.BatchPublisher.
func RunBenchmarks(b *testing.B, h Harness) {
	if h.New == nil {
		b.Fatal("conformance: Harness.New is nil")
	}
	name := h.Name
	if name == "" {
		name = "transport"
	}
	s := suite{h: h}
	b.Run(name, func(b *testing.B) {
		b.Run("Publish", s.benchPublish)
		b.Run("PublishParallel", s.benchPublishParallel)
		b.Run("RoundTrip", s.benchRoundTrip)
		b.Run("PublishBatch64", s.benchBatch)
	})
}

func benchPayload() []byte { return randomBytes(benchPayloadSize) }

func benchCtx(b *testing.B) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	return ctx
}

func (s suite) benchPublish(b *testing.B) {
	tr, ctx := s.open(b), benchCtx(b)
	msg := transport.Message{Channel: channelBase(), Payload: benchPayload()}
	b.ReportAllocs()
	b.SetBytes(benchPayloadSize)
	for b.Loop() {
		if err := tr.Publish(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func (s suite) benchPublishParallel(b *testing.B) {
	tr, ctx := s.open(b), benchCtx(b)
	ch, payload := channelBase(), benchPayload()
	b.ReportAllocs()
	b.SetBytes(benchPayloadSize)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		msg := transport.Message{Channel: ch, Payload: payload}
		for pb.Next() {
			if err := tr.Publish(ctx, msg); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func (s suite) benchRoundTrip(b *testing.B) {
	pub, subT, ctx := s.open(b), s.open(b), benchCtx(b)
	ch := channelBase()
	sub := subscribe(b, subT, ch)
	msg := transport.Message{Channel: ch, Payload: benchPayload()}
	b.ReportAllocs()
	b.SetBytes(benchPayloadSize)
	for b.Loop() {
		if err := pub.Publish(ctx, msg); err != nil {
			b.Fatal(err)
		}
		if _, err := sub.Next(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func (s suite) benchBatch(b *testing.B) {
	const n = 64
	tr, ctx := s.open(b), benchCtx(b)
	bp, ok := tr.(transport.BatchPublisher)
	if !ok {
		b.Skip("the transport does not implement transport.BatchPublisher")
	}
	ch, payload := channelBase(), benchPayload()
	batch := make([]transport.Message, n)
	for i := range batch {
		batch[i] = transport.Message{Channel: ch, Payload: payload}
	}
	b.ReportAllocs()
	b.SetBytes(n * benchPayloadSize)
	for b.Loop() {
		if err := bp.PublishBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/msg")
}
