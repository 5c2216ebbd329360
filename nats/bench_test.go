package nats_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/sendq"
	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// benchPayload is the size of a typical encoded event, as in the
// conformance benchmarks.
const benchPayload = 180

// benchURL is the real server when EVENTPUB_NATS_URL is set, else an
// embedded one.
func benchURL(b *testing.B) string {
	if u := brokertest.RealNATSURL(); u != "" {
		return u
	}
	return brokertest.StartNATS(b).URL()
}

// BenchmarkCompare runs the driver and plain nats.go side by side on the
// same server with the same 180-byte payload: core Publish, JetStream
// publish with ack, and a JetStream batch of 64 sent async then acked.
// Each comparison also runs interleaved, the two sides alternating in
// blocks, which gives the fairer ratio ("speedup") on a shared machine:
//
//	EVENTPUB_NATS_URL=nats://127.0.0.1:4222 go test -run '^$' -bench Compare -benchmem ./nats/
func BenchmarkCompare(b *testing.B) {
	url := benchURL(b)
	payload := make([]byte, benchPayload)
	_, _ = rand.Read(payload)
	ctx := context.Background()

	b.Run("CorePublish/transport", func(b *testing.B) {
		tr := openB(b, url)
		msg := transport.Message{Channel: "bench-core-" + unique(), Payload: payload}
		b.ReportAllocs()
		b.SetBytes(benchPayload)
		for b.Loop() {
			if err := tr.Publish(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("CorePublish/natsgo", func(b *testing.B) {
		nc := connB(b, url)
		subj := "bench-core-" + unique()
		b.ReportAllocs()
		b.SetBytes(benchPayload)
		for b.Loop() {
			if err := nc.Publish(subj, payload); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("CorePublish/interleaved", func(b *testing.B) {
		tr, nc := openB(b, url), connB(b, url)
		subj := "bench-core-" + unique()
		msg := transport.Message{Channel: subj, Payload: payload}
		b.SetBytes(benchPayload)
		brokertest.Interleave(b, 5000, "natsgo", func(n int) {
			for range n {
				if err := tr.Publish(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for range n {
				if err := nc.Publish(subj, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	})

	stream := streamName(b, url)
	subj := "bench-js-" + unique()
	jsOpt := nats.WithJetStream(nats.JetStreamConfig{Stream: stream, Subjects: []string{subj}, MaxBytes: 256 << 20})
	b.Run("JetStreamPublish/transport", func(b *testing.B) {
		tr := openB(b, url, jsOpt)
		msg := transport.Message{Channel: subj, Payload: payload}
		b.ReportAllocs()
		b.SetBytes(benchPayload)
		for b.Loop() {
			if err := tr.Publish(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("JetStreamPublish/jetstream", func(b *testing.B) {
		openB(b, url, jsOpt) // makes sure the stream exists
		js, err := jetstream.New(connB(b, url))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(benchPayload)
		for b.Loop() {
			if _, err := js.Publish(ctx, subj, payload); err != nil {
				b.Fatal(err)
			}
		}
	})

	b.Run("JetStreamPublish/interleaved", func(b *testing.B) {
		tr := openB(b, url, jsOpt)
		js, err := jetstream.New(connB(b, url))
		if err != nil {
			b.Fatal(err)
		}
		msg := transport.Message{Channel: subj, Payload: payload}
		b.SetBytes(benchPayload)
		brokertest.Interleave(b, 50, "jetstream", func(n int) {
			for range n {
				if err := tr.Publish(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for range n {
				if _, err := js.Publish(ctx, subj, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	})

	const batch = 64
	b.Run("JetStreamBatch64/transport", func(b *testing.B) {
		tr := openB(b, url, jsOpt)
		msgs := make([]transport.Message, batch)
		for i := range msgs {
			msgs[i] = transport.Message{Channel: subj, Payload: payload}
		}
		b.ReportAllocs()
		b.SetBytes(batch * benchPayload)
		for b.Loop() {
			if err := tr.PublishBatch(ctx, msgs); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/msg")
	})
	b.Run("JetStreamBatch64/jetstream-async", func(b *testing.B) {
		openB(b, url, jsOpt)
		js, err := jetstream.New(connB(b, url))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(batch * benchPayload)
		for b.Loop() {
			for range batch {
				if _, err := js.PublishAsync(subj, payload); err != nil {
					b.Fatal(err)
				}
			}
			<-js.PublishAsyncComplete()
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*batch), "ns/msg")
	})
	b.Run("JetStreamBatch64/interleaved", func(b *testing.B) {
		tr := openB(b, url, jsOpt)
		js, err := jetstream.New(connB(b, url))
		if err != nil {
			b.Fatal(err)
		}
		msgs := make([]transport.Message, batch)
		for i := range msgs {
			msgs[i] = transport.Message{Channel: subj, Payload: payload}
		}
		b.SetBytes(batch * benchPayload)
		brokertest.Interleave(b, 10, "jetstream-async", func(n int) {
			for range n {
				if err := tr.PublishBatch(ctx, msgs); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for range n {
				for range batch {
					if _, err := js.PublishAsync(subj, payload); err != nil {
						b.Fatal(err)
					}
				}
				<-js.PublishAsyncComplete()
			}
		})
	})

	// The async queue on the driver until every message is acked, beside
	// nats.go's PublishAsync until PublishAsyncComplete.
	b.Run("JetStreamAsync/queue", func(b *testing.B) {
		tr := openB(b, url, jsOpt)
		q, err := sendq.New(tr, sendq.Config{Capacity: 1 << 16, Policy: sendq.Block})
		if err != nil {
			b.Fatal(err)
		}
		msg := transport.Message{Channel: subj, Payload: payload}
		b.ReportAllocs()
		b.SetBytes(benchPayload)
		for range b.N {
			if err := q.Push(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
		if lost := q.Close(ctx); lost != 0 {
			b.Fatalf("%d messages lost", lost)
		}
		if c := q.Counters(); c.Published != uint64(b.N) {
			b.Fatalf("published %d of %d", c.Published, b.N)
		}
	})
	b.Run("JetStreamAsync/jetstream", func(b *testing.B) {
		openB(b, url, jsOpt)
		js, err := jetstream.New(connB(b, url))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		b.SetBytes(benchPayload)
		for range b.N {
			if _, err := js.PublishAsync(subj, payload); err != nil {
				b.Fatal(err)
			}
		}
		<-js.PublishAsyncComplete()
	})
}

func openB(b *testing.B, url string, opts ...nats.Option) *nats.Transport {
	b.Helper()
	tr, err := nats.Open(context.Background(), url, opts...)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = tr.Close() })
	return tr
}

func connB(b *testing.B, url string) *natsgo.Conn {
	b.Helper()
	nc, err := natsgo.Connect(url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(nc.Close)
	return nc
}
