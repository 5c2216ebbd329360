package mqtt_test

import (
	"context"
	"crypto/rand"
	"net"
	"net/url"
	"sync"
	"testing"

	"github.com/eclipse/paho.golang/paho"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
)

// benchPayload is the size of a typical encoded event, as in the
// conformance benchmarks.
const benchPayload = 180

// pahoClient connects a plain paho.golang client, as a program using paho
// by hand would.
func pahoClient(b *testing.B, rawURL string) *paho.Client {
	b.Helper()
	u, _ := url.Parse(rawURL)
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		b.Fatal(err)
	}
	cli := paho.NewClient(paho.ClientConfig{Conn: conn})
	if _, err := cli.Connect(context.Background(), &paho.Connect{ClientID: unique("paho-bench"), KeepAlive: 30, CleanStart: true}); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cli.Disconnect(&paho.Disconnect{}) })
	return cli
}

// BenchmarkCompare runs the driver and plain paho.golang side by side on
// the same server with the same 180-byte payload, both at QoS 1 (each
// publish waits for its PUBACK): one publisher in sequence, paho against
// itself (the noise floor: "eventpub" there is a second paho client), 16
// goroutines publishing at once, and 64 messages in flight together
// (PublishBatch against 64 goroutines each calling paho's Publish). Each
// comparison runs interleaved, the two sides alternating in blocks, and
// reports the speedup (paho's time over the driver's):
//
//	go test -run '^$' -bench Compare -benchmem ./mqtt/
func BenchmarkCompare(b *testing.B) {
	url := brokerURL(b)
	payload := make([]byte, benchPayload)
	_, _ = rand.Read(payload)
	ctx := context.Background()

	b.Run("Publish", func(b *testing.B) {
		tr, cli := open(b, url), pahoClient(b, url)
		topic := unique("bench-seq")
		msg := transport.Message{Channel: topic, Payload: payload}
		pp := &paho.Publish{QoS: 1, Topic: topic, Payload: payload}
		b.ReportAllocs()
		b.SetBytes(benchPayload)
		brokertest.Interleave(b, 500, "paho", func(n int) {
			for range n {
				if err := tr.Publish(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for range n {
				if _, err := cli.Publish(ctx, pp); err != nil {
					b.Fatal(err)
				}
			}
		})
	})

	// The noise floor: paho against itself, run the same way. Its speedup
	// is 1 but for the machine's noise, which bounds how far from 1 the
	// other ratios must be to mean anything.
	b.Run("NoiseFloor", func(b *testing.B) {
		c1, c2 := pahoClient(b, url), pahoClient(b, url)
		topic := unique("bench-noise")
		pp := &paho.Publish{QoS: 1, Topic: topic, Payload: payload}
		b.SetBytes(benchPayload)
		brokertest.Interleave(b, 500, "paho", func(n int) {
			for range n {
				if _, err := c1.Publish(ctx, pp); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for range n {
				if _, err := c2.Publish(ctx, pp); err != nil {
					b.Fatal(err)
				}
			}
		})
	})

	const workers = 16
	parallel := func(n int, f func() error) {
		var wg sync.WaitGroup
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < n; i += workers {
					if err := f(); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
	}
	b.Run("Parallel16", func(b *testing.B) {
		tr, cli := open(b, url), pahoClient(b, url)
		topic := unique("bench-par")
		msg := transport.Message{Channel: topic, Payload: payload}
		pp := &paho.Publish{QoS: 1, Topic: topic, Payload: payload}
		b.SetBytes(benchPayload)
		brokertest.Interleave(b, 2000, "paho", func(n int) {
			parallel(n, func() error { return tr.Publish(ctx, msg) })
		}, func(n int) {
			parallel(n, func() error { _, err := cli.Publish(ctx, pp); return err })
		})
	})

	const batch = 64
	b.Run("Batch64", func(b *testing.B) {
		tr, cli := open(b, url), pahoClient(b, url)
		topic := unique("bench-batch")
		msgs := make([]transport.Message, batch)
		for i := range msgs {
			msgs[i] = transport.Message{Channel: topic, Payload: payload}
		}
		pp := &paho.Publish{QoS: 1, Topic: topic, Payload: payload}
		b.SetBytes(benchPayload)
		brokertest.Interleave(b, 64*batch, "paho", func(n int) {
			for done := 0; done < n; done += batch {
				if err := tr.PublishBatch(ctx, msgs[:min(batch, n-done)]); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for done := 0; done < n; done += batch {
				var wg sync.WaitGroup
				for range min(batch, n-done) {
					wg.Add(1)
					go func() {
						defer wg.Done()
						if _, err := cli.Publish(ctx, pp); err != nil {
							b.Error(err)
						}
					}()
				}
				wg.Wait()
			}
		})
	})
}
