package kafka_test

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/kafka"
	"github.com/eventpub/eventpub/transport"
	"github.com/twmb/franz-go/pkg/kgo"
)

// benchPayload is the size of a typical encoded event, as in the
// conformance benchmarks.
const benchPayload = 180

// byHand is a franz-go client as a user would set it up to produce with
// the driver's guarantees: idempotent, acks=all (both franz-go's
// defaults) and no linger, as for synchronous produces.
func byHand(b *testing.B, url string) *kgo.Client {
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokersOf(url)...), kgo.RequiredAcks(kgo.AllISRAcks()), kgo.ProducerLinger(0))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(cl.Close)
	return cl
}

// brokersOf returns the brokers of a kafka:// URL without parameters.
func brokersOf(url string) []string {
	hosts := strings.TrimPrefix(url, "kafka://")
	if i := strings.IndexAny(hosts, "/?"); i >= 0 {
		hosts = hosts[:i]
	}
	if i := strings.LastIndexByte(hosts, '@'); i >= 0 {
		hosts = hosts[i+1:]
	}
	return strings.Split(hosts, ",")
}

// benchTarget returns the cluster to measure on: the real Kafka when
// EVENTPUB_KAFKA_URL is set, else 3-broker kfake.
func benchTarget(b *testing.B) string {
	if u := realURL(); u != "" {
		return u
	}
	return cluster3(b).URL()
}

// BenchmarkCompare runs the driver and franz-go by hand side by side on
// the same cluster and topic with the same 180-byte payload, interleaved
// in blocks so both share the machine's load ("speedup" is franz-go's
// time over the driver's: 1.0 means as fast):
//
//   - Sequential: Publish against ProduceSync, one at a time.
//
//   - Batch: PublishBatch of the block against Produce of each record and
//     one Flush.
//
//   - Concurrent64: 64 goroutines calling Publish against 64 calling
//     ProduceSync.
//
//     go test -run '^$' -bench Compare -benchmem ./kafka/
func BenchmarkCompare(b *testing.B) {
	url := benchTarget(b)
	payload := make([]byte, benchPayload)
	_, _ = rand.Read(payload)
	ctx := context.Background()
	setup := func(b *testing.B) (*kafka.Transport, *kgo.Client, transport.Message, *kgo.Record) {
		tr, cl := open(b, url), byHand(b, url)
		ch := "bench:" + unique()
		msg := transport.Message{Channel: ch, Payload: payload}
		if err := tr.Publish(ctx, msg); err != nil { // creates the topic
			b.Fatal(err)
		}
		topic, _ := kafka.TopicFor(kafka.Escape, ch)
		return tr, cl, msg, &kgo.Record{Topic: topic, Key: []byte(ch), Value: payload}
	}
	produceFlush := func(b *testing.B, cl *kgo.Client, rec *kgo.Record, n int) {
		var mu sync.Mutex
		var first error
		for range n {
			r := *rec
			cl.Produce(ctx, &r, func(_ *kgo.Record, err error) {
				if err != nil {
					mu.Lock()
					first = err
					mu.Unlock()
				}
			})
		}
		if err := cl.Flush(ctx); err != nil {
			b.Fatal(err)
		}
		if first != nil {
			b.Fatal(first)
		}
	}

	b.Run("Sequential", func(b *testing.B) {
		tr, cl, msg, rec := setup(b)
		b.SetBytes(benchPayload)
		b.ReportAllocs()
		brokertest.Interleave(b, 25, "franzgo", func(n int) {
			for range n {
				if err := tr.Publish(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for range n {
				r := *rec
				if err := cl.ProduceSync(ctx, &r).FirstErr(); err != nil {
					b.Fatal(err)
				}
			}
		})
	})

	b.Run("Batch", func(b *testing.B) {
		tr, cl, msg, rec := setup(b)
		const block = 1000
		batch := make([]transport.Message, block)
		for i := range batch {
			batch[i] = msg
		}
		b.SetBytes(benchPayload)
		b.ReportAllocs()
		brokertest.Interleave(b, block, "franzgo", func(n int) {
			if err := tr.PublishBatch(ctx, batch[:n]); err != nil {
				b.Fatal(err)
			}
		}, func(n int) { produceFlush(b, cl, rec, n) })
	})

	b.Run("Concurrent64", func(b *testing.B) {
		tr, cl, msg, rec := setup(b)
		const workers = 64
		b.SetBytes(benchPayload)
		b.ReportAllocs()
		brokertest.Interleave(b, 2000, "franzgo", func(n int) {
			var wg sync.WaitGroup
			for w := range workers {
				share := n / workers
				if w < n%workers {
					share++
				}
				wg.Go(func() {
					for range share {
						if err := tr.Publish(ctx, msg); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		}, func(n int) {
			var wg sync.WaitGroup
			for w := range workers {
				share := n / workers
				if w < n%workers {
					share++
				}
				wg.Go(func() {
					for range share {
						r := *rec
						if err := cl.ProduceSync(ctx, &r).FirstErr(); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
		})
	})
}
