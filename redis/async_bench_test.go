package redis_test

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/sendq"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// queueCapacity is the async queue of these benchmarks: the README's
// WithAsync(10000, …); the pushing goroutine fills it, then waits for room.
const queueCapacity = 10000

// asyncDrain pushes n messages to an async queue of capacity on tr from
// one goroutine and closes it, which waits until Redis has answered every
// one.
func asyncDrain(b *testing.B, tr transport.Transport, msg transport.Message, n, capacity int) {
	q, err := sendq.New(tr, sendq.Config{Capacity: capacity, Policy: sendq.Block})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for range n {
		if err := q.Push(ctx, msg); err != nil {
			b.Fatal(err)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if lost := q.Close(cctx); lost != 0 {
		b.Fatalf("Close: %d messages not delivered", lost)
	}
	if c := q.Counters(); c.Published != uint64(n) {
		b.Fatalf("published %d of %d", c.Published, n)
	}
}

// BenchmarkCompareAsync: the async queue on this driver (one pushing
// goroutine, until every message is acknowledged) beside go-redis
// pipelines of 64, the depth of redis-benchmark -P 64. An op is one
// message; "async" alone is for profiles, and "async-burst" is it with a
// queue that holds all b.N messages at once.
func BenchmarkCompareAsync(b *testing.B) {
	url := benchURL(b)
	ch := chanName("bench")
	ctx := context.Background()
	msg := transport.Message{Channel: ch, Payload: benchPayload}
	const block = 50000
	for _, burst := range []bool{false, true} {
		name := "async"
		if burst {
			name = "async-burst"
		}
		b.Run(name, func(b *testing.B) {
			tr, c := open(b, url), plainClient(b, url)
			b.ReportAllocs()
			capacity := queueCapacity
			if burst {
				capacity = b.N
			}
			cpu0, srv0 := processCPU(), serverCPU(b, c)
			asyncDrain(b, tr, msg, b.N, capacity)
			b.ReportMetric(float64(processCPU()-cpu0)/float64(b.N), "cpu-ns/msg")
			b.ReportMetric(float64(serverCPU(b, c)-srv0)/float64(b.N), "redis-cpu-ns/msg")
		})
	}
	b.Run("interleaved", func(b *testing.B) {
		tr, c := open(b, url), plainClient(b, url)
		brokertest.Interleave(b, block, "goredis-P64", func(n int) {
			asyncDrain(b, tr, msg, n, queueCapacity)
		}, func(n int) {
			for sent := 0; sent < n; sent += 64 {
				pipe := c.Pipeline()
				for range min(64, n-sent) {
					pipe.Publish(ctx, ch, benchPayload)
				}
				if _, err := pipe.Exec(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
	})
}

// processCPU returns the CPU time this process has used (user and
// system), in nanoseconds: on a loaded machine a steadier measure of the
// work per message than the wall time.
func processCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// serverCPU returns the CPU time the Redis server has used, in
// nanoseconds (INFO cpu).
func serverCPU(b *testing.B, c interface {
	Info(context.Context, ...string) *goredis.StringCmd
}) int64 {
	info, err := c.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\r\n") {
		for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil {
					b.Fatal(err)
				}
				total += f
			}
		}
	}
	return int64(total * 1e9)
}

// BenchmarkBatchesInFlight: batches of 256 from 1, 2 and 4 goroutines at
// once, so that as many batches are in flight on the publish connection:
// what a sender that keeps a window of batches in flight can get from
// the driver. An op is one message.
func BenchmarkBatchesInFlight(b *testing.B) {
	url := benchURL(b)
	ch := chanName("bench")
	msgs := make([]transport.Message, 256)
	for i := range msgs {
		msgs[i] = transport.Message{Channel: ch, Payload: benchPayload}
	}
	for _, window := range []int{1, 2, 4} {
		b.Run("window="+strconv.Itoa(window), func(b *testing.B) {
			tr, c := open(b, url), plainClient(b, url)
			b.ReportAllocs()
			cpu0, srv0 := processCPU(), serverCPU(b, c)
			batches := (b.N + len(msgs) - 1) / len(msgs)
			var next atomic.Int64
			var wg sync.WaitGroup
			for range window {
				wg.Go(func() {
					for next.Add(1) <= int64(batches) {
						if err := tr.PublishBatch(context.Background(), msgs); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			n := float64(batches * len(msgs))
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/n, "ns/msg")
			b.ReportMetric(float64(processCPU()-cpu0)/n, "cpu-ns/msg")
			b.ReportMetric(float64(serverCPU(b, c)-srv0)/n, "redis-cpu-ns/msg")
		})
	}
}
