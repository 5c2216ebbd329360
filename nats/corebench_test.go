package nats_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
)

// BenchmarkCorePublish is core Publish on both ways of making a Transport
// beside nats.go's Publish on a connection of its defaults, each on its
// own connection to the same server: "open" is a Transport from Open
// (whose connection skips nats.go's subject check, the driver having
// checked the channel), "new" one from New on a connection the caller
// made with nats.go's defaults. The interleaved runs give the fairer
// ratio on a shared machine. "natsgo-skipcheck" is nats.go on a connection
// that skips its subject check, as Open's does: the floor for "open".
//
//	EVENTPUB_NATS_URL=nats://127.0.0.1:4222 go test -run '^$' -bench CorePublish -benchmem ./nats/
func BenchmarkCorePublish(b *testing.B) {
	url := benchURL(b)
	payload := make([]byte, benchPayload)
	_, _ = rand.Read(payload)
	ctx := context.Background()
	newT := func(b *testing.B) *nats.Transport {
		tr, err := nats.New(connB(b, url))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = tr.Close() })
		return tr
	}
	publish := func(b *testing.B, tr *nats.Transport, msg transport.Message) func(int) {
		return func(n int) {
			for range n {
				if err := tr.Publish(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	for _, mk := range []struct {
		name string
		tr   func(*testing.B) *nats.Transport
	}{{"open", func(b *testing.B) *nats.Transport { return openB(b, url) }}, {"new", newT}} {
		b.Run(mk.name, func(b *testing.B) {
			pub := publish(b, mk.tr(b), transport.Message{Channel: "bench-core-" + unique(), Payload: payload})
			b.ReportAllocs()
			b.SetBytes(benchPayload)
			for b.Loop() {
				pub(1)
			}
		})
	}
	for _, c := range []struct {
		name string
		opts []natsgo.Option
	}{{"natsgo", nil}, {"natsgo-skipcheck", []natsgo.Option{natsgo.SkipSubjectValidation()}}} {
		b.Run(c.name, func(b *testing.B) {
			nc, err := natsgo.Connect(url, c.opts...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(nc.Close)
			subj := "bench-core-" + unique()
			b.ReportAllocs()
			b.SetBytes(benchPayload)
			for b.Loop() {
				if err := nc.Publish(subj, payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, mk := range []struct {
		name string
		tr   func(*testing.B) *nats.Transport
	}{{"open", func(b *testing.B) *nats.Transport { return openB(b, url) }}, {"new", newT}} {
		b.Run(mk.name+"-interleaved", func(b *testing.B) {
			nc := connB(b, url)
			subj := "bench-core-" + unique()
			b.SetBytes(benchPayload)
			brokertest.Interleave(b, 5000, "natsgo",
				publish(b, mk.tr(b), transport.Message{Channel: subj, Payload: payload}),
				func(n int) {
					for range n {
						if err := nc.Publish(subj, payload); err != nil {
							b.Fatal(err)
						}
					}
				})
		})
	}
}
