package redis_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// interleaved runs ours and theirs alternately, block operations at a
// time, until each has run b.N; it reports each side's ns/op and the
// speedup (theirs/ours time). Alternating makes both sides share the same
// machine load, which a shared 2-core machine needs for a fair ratio.
func interleaved(b *testing.B, block int, ours, theirs func(n int)) {
	ours(block) // warm both up: connections, buffers
	theirs(block)
	var tOurs, tTheirs time.Duration
	b.ResetTimer()
	for done, i := 0, 0; done < b.N; done, i = done+block, i+1 {
		n := min(block, b.N-done)
		run := func(f func(int), d *time.Duration) {
			start := time.Now()
			f(n)
			*d += time.Since(start)
		}
		if i%2 == 0 {
			run(ours, &tOurs)
			run(theirs, &tTheirs)
		} else {
			run(theirs, &tTheirs)
			run(ours, &tOurs)
		}
	}
	b.ReportMetric(float64(tOurs.Nanoseconds())/float64(b.N), "eventpub-ns/op")
	b.ReportMetric(float64(tTheirs.Nanoseconds())/float64(b.N), "goredis-ns/op")
	b.ReportMetric(float64(tTheirs)/float64(tOurs), "speedup")
}

// on64 returns a func that runs n calls of op spread over 64 goroutines.
func on64(op func() error) func(n int) {
	return func(n int) {
		var left atomic.Int64
		left.Store(int64(n))
		var wg sync.WaitGroup
		for range 64 {
			wg.Go(func() {
				for left.Add(-1) >= 0 {
					if err := op(); err != nil {
						panic(err)
					}
				}
			})
		}
		wg.Wait()
	}
}

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
		interleaved(b, 500, func(n int) {
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
		interleaved(b, 32000,
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
		interleaved(b, 50, func(n int) {
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
