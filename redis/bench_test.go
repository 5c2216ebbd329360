package redis_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// The Compare benchmarks put this driver beside plain go-redis on the real
// Redis of EVENTPUB_REDIS_URL, with the same 180-byte payload:
//
//	go test -run '^$' -bench Compare -benchmem ./redis/

var benchPayload = func() []byte {
	b := make([]byte, 180)
	for i := range b {
		b[i] = 'a' + byte(i%26)
	}
	return b
}()

func benchURL(b *testing.B) string {
	url := brokertest.RealRedisURL()
	if url == "" {
		b.Skip("EVENTPUB_REDIS_URL is not set: the Compare benchmarks need a real Redis")
	}
	return url
}

func plainClient(b *testing.B, url string) *goredis.Client {
	opts, err := goredis.ParseURL(url)
	if err != nil {
		b.Fatal(err)
	}
	c := goredis.NewClient(opts)
	b.Cleanup(func() { _ = c.Close() })
	return c
}

// on64 returns a func that runs n calls of op spread over 64 goroutines.
func on64(op func() error) func(n int) { return onN(64, op) }

// parallel64 runs body on 64 goroutines.
func parallel64(b *testing.B, body func(*testing.PB)) {
	b.SetParallelism((64 + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.RunParallel(body)
}

func BenchmarkCompareSequential(b *testing.B) {
	url := benchURL(b)
	ch := chanName("bench")
	ctx := context.Background()
	b.Run("eventpub", func(b *testing.B) {
		tr := open(b, url)
		msg := transport.Message{Channel: ch, Payload: benchPayload}
		b.ReportAllocs()
		for b.Loop() {
			if err := tr.Publish(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("goredis", func(b *testing.B) {
		c := plainClient(b, url)
		b.ReportAllocs()
		for b.Loop() {
			if err := c.Publish(ctx, ch, benchPayload).Err(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("interleaved", func(b *testing.B) {
		tr, c := open(b, url), plainClient(b, url)
		msg := transport.Message{Channel: ch, Payload: benchPayload}
		brokertest.Interleave(b, 500, "goredis", func(n int) {
			for range n {
				if err := tr.Publish(ctx, msg); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for range n {
				if err := c.Publish(ctx, ch, benchPayload).Err(); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

func BenchmarkCompareParallel64(b *testing.B) {
	url := benchURL(b)
	ch := chanName("bench")
	ctx := context.Background()
	b.Run("eventpub", func(b *testing.B) {
		tr := open(b, url)
		msg := transport.Message{Channel: ch, Payload: benchPayload}
		b.ReportAllocs()
		parallel64(b, func(pb *testing.PB) {
			for pb.Next() {
				if err := tr.Publish(ctx, msg); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("goredis", func(b *testing.B) {
		c := plainClient(b, url)
		b.ReportAllocs()
		parallel64(b, func(pb *testing.PB) {
			for pb.Next() {
				if err := c.Publish(ctx, ch, benchPayload).Err(); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("interleaved", func(b *testing.B) {
		tr, c := open(b, url), plainClient(b, url)
		msg := transport.Message{Channel: ch, Payload: benchPayload}
		brokertest.Interleave(b, 32000, "goredis",
			on64(func() error { return tr.Publish(ctx, msg) }),
			on64(func() error { return c.Publish(ctx, ch, benchPayload).Err() }))
	})
}

func BenchmarkCompareBatch64(b *testing.B) {
	url := benchURL(b)
	ch := chanName("bench")
	ctx := context.Background()
	b.Run("eventpub", func(b *testing.B) {
		tr := open(b, url)
		msgs := make([]transport.Message, 64)
		for i := range msgs {
			msgs[i] = transport.Message{Channel: ch, Payload: benchPayload}
		}
		b.ReportAllocs()
		for b.Loop() {
			if err := tr.PublishBatch(ctx, msgs); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("goredis", func(b *testing.B) {
		c := plainClient(b, url)
		b.ReportAllocs()
		for b.Loop() {
			pipe := c.Pipeline()
			for range 64 {
				pipe.Publish(ctx, ch, benchPayload)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("interleaved", func(b *testing.B) {
		tr, c := open(b, url), plainClient(b, url)
		msgs := make([]transport.Message, 64)
		for i := range msgs {
			msgs[i] = transport.Message{Channel: ch, Payload: benchPayload}
		}
		brokertest.Interleave(b, 50, "goredis", func(n int) {
			for range n {
				if err := tr.PublishBatch(ctx, msgs); err != nil {
					b.Fatal(err)
				}
			}
		}, func(n int) {
			for range n {
				pipe := c.Pipeline()
				for range 64 {
					pipe.Publish(ctx, ch, benchPayload)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}
