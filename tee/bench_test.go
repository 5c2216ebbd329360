package tee_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/tee"
	"github.com/eventpub/eventpub/transport"
)

// slow is a target that takes d for every Publish, like a broker round trip.
type slow struct {
	transport.Transport
	d time.Duration
}

func (s slow) Publish(ctx context.Context, m transport.Message) error {
	time.Sleep(s.d)
	return s.Transport.Publish(ctx, m)
}

func benchPublish(b *testing.B, tr transport.Transport) {
	ctx := context.Background()
	msg := transport.Message{Channel: "bench", Payload: make([]byte, 128)}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := tr.Publish(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPublish compares a memory transport alone with tees over it:
// the tee's own cost, and concurrent against sequential fan-out.
func BenchmarkPublish(b *testing.B) {
	b.Run("direct", func(b *testing.B) {
		m := memory.New()
		defer m.Close()
		benchPublish(b, m)
	})
	for _, c := range []struct {
		name    string
		targets int
		opts    []tee.Option
	}{
		{"tee1", 1, nil},
		{"tee2-concurrent", 2, nil},
		{"tee2-sequential", 2, []tee.Option{tee.WithSequential()}},
		{"tee3-concurrent", 3, nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			var others []transport.Transport
			for range c.targets - 1 {
				others = append(others, memory.New())
			}
			tt, err := tee.New(memory.New(), others, c.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer tt.Close()
			benchPublish(b, tt)
		})
	}
}

// BenchmarkSlowTargets publishes to two targets that each sleep 200µs (about
// 1 ms on a loaded machine): a
// concurrent tee costs about one round trip, a sequential one two.
func BenchmarkSlowTargets(b *testing.B) {
	for _, c := range []struct {
		name string
		opts []tee.Option
	}{{"concurrent", nil}, {"sequential", []tee.Option{tee.WithSequential()}}} {
		b.Run(c.name, func(b *testing.B) {
			d := 200 * time.Microsecond
			tt, err := tee.New(slow{memory.New(), d}, []transport.Transport{slow{memory.New(), d}}, c.opts...)
			if err != nil {
				b.Fatal(err)
			}
			defer tt.Close()
			benchPublish(b, tt)
		})
	}
}

// BenchmarkRedisNATS publishes through tee(Redis, NATS) on the embedded
// brokers (and the real ones when EVENTPUB_REDIS_URL / EVENTPUB_NATS_URL
// are set), against Redis alone.
func BenchmarkRedisNATS(b *testing.B) {
	for _, p := range brokertest.Pairs(b) {
		b.Run(p.Name+"/redis-alone", func(b *testing.B) { benchPublish(b, brokertest.Open(b, p.RedisURL)) })
		for _, c := range []struct {
			name string
			opts []tee.Option
		}{{"concurrent", nil}, {"sequential", []tee.Option{tee.WithSequential()}}} {
			b.Run(p.Name+"/tee-"+c.name, func(b *testing.B) {
				tt, err := tee.New(brokertest.Open(b, p.RedisURL), []transport.Transport{brokertest.Open(b, p.NATSURL)},
					append(c.opts, tee.WithKeepOpen())...)
				if err != nil {
					b.Fatal(err)
				}
				benchPublish(b, tt)
			})
		}
	}
}
