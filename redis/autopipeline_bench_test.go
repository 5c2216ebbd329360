package redis_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// BenchmarkAutoPipeline puts the driver's own pipelining beside go-redis's
// experimental Client.AutoPipeline (default options) on the real Redis of
// EVENTPUB_REDIS_URL: PUBLISH of a 180-byte payload, sequential and from
// 1, 8, 64, 256 and 1024 goroutines, the two interleaved in blocks within
// one run. Besides time per message it reports process CPU time (user +
// system, getrusage) per message for each side:
//
//	go test -run '^$' -bench AutoPipeline -count 5 ./redis/
func BenchmarkAutoPipeline(b *testing.B) {
	url := benchURL(b)
	ctx := context.Background()
	b.Run("sequential", func(b *testing.B) {
		ch := chanName("bench")
		tr, ap := open(b, url), autoPipeliner(b, url)
		msg := transport.Message{Channel: ch, Payload: benchPayload}
		interleaveCPU(b, 500,
			onN(0, func() error { return tr.Publish(ctx, msg) }),
			onN(0, func() error { return ap.Publish(ctx, ch, benchPayload).Err() }))
	})
	for _, g := range []int{1, 8, 64, 256, 1024} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			ch := chanName("bench")
			tr, ap := open(b, url), autoPipeliner(b, url)
			msg := transport.Message{Channel: ch, Payload: benchPayload}
			block := max(500, 16*g)
			interleaveCPU(b, block,
				onN(g, func() error { return tr.Publish(ctx, msg) }),
				onN(g, func() error { return ap.Publish(ctx, ch, benchPayload).Err() }))
		})
	}
}

// BenchmarkAutoPipelineFullDuplex is BenchmarkAutoPipeline's concurrent
// half against go-redis's full-duplex autopipeliner (FullDuplex: one held
// connection streaming writes and reads, like the driver's own), to be
// sure the comparison is not with the weaker of go-redis's two engines.
func BenchmarkAutoPipelineFullDuplex(b *testing.B) {
	url := benchURL(b)
	ctx := context.Background()
	for _, g := range []int{64, 256, 1024} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			ch := chanName("bench")
			opts := goredis.DefaultBlockingAutoPipelineOptions()
			opts.FullDuplex = true
			tr, ap := open(b, url), autoPipeliner(b, url, opts)
			msg := transport.Message{Channel: ch, Payload: benchPayload}
			interleaveCPU(b, max(500, 16*g),
				onN(g, func() error { return tr.Publish(ctx, msg) }),
				onN(g, func() error { return ap.Publish(ctx, ch, benchPayload).Err() }))
		})
	}
}

// autoPipeliner returns go-redis's blocking autopipeliner on a new client,
// with opts (nil: go-redis's defaults).
func autoPipeliner(b *testing.B, url string, opts ...*goredis.AutoPipelineOptions) *goredis.AutoPipeliner {
	c := plainClient(b, url)
	var o *goredis.AutoPipelineOptions
	if len(opts) > 0 {
		o = opts[0]
	}
	ap, err := c.AutoPipelineWithOptions(o)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = ap.Close() })
	return ap
}

// onN returns a func that runs n calls of op spread over g goroutines,
// or on the calling goroutine when g is 0.
func onN(g int, op func() error) func(n int) {
	if g == 0 {
		return func(n int) {
			for range n {
				if err := op(); err != nil {
					panic(err)
				}
			}
		}
	}
	return func(n int) {
		var left atomic.Int64
		left.Store(int64(n))
		var wg sync.WaitGroup
		for range g {
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

// cpuTime is the process's user plus system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// interleaveCPU is brokertest.Interleave plus CPU time per message: it
// runs ours and theirs in alternating blocks of block messages (who goes
// first alternates too) and reports wall time and process CPU time per
// message for each, and their ratios (goredis over eventpub: above 1
// means the driver's own pipelining is cheaper).
func interleaveCPU(b *testing.B, block int, ours, theirs func(n int)) {
	b.Helper()
	ours(block) // warm both up: connections, buffers
	theirs(block)
	var wall, cpu [2]time.Duration
	b.ResetTimer()
	for done, i := 0, 0; done < b.N; done, i = done+block, i+1 {
		n := min(block, b.N-done)
		run := func(side int) {
			f := ours
			if side == 1 {
				f = theirs
			}
			c0, t0 := cpuTime(), time.Now()
			f(n)
			wall[side] += time.Since(t0)
			cpu[side] += cpuTime() - c0
		}
		run(i % 2)
		run(1 - i%2)
	}
	b.StopTimer()
	per := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(per(wall[0]), "eventpub-ns/op")
	b.ReportMetric(per(wall[1]), "goredis-ns/op")
	b.ReportMetric(per(cpu[0]), "eventpub-cpu-ns/op")
	b.ReportMetric(per(cpu[1]), "goredis-cpu-ns/op")
	b.ReportMetric(float64(wall[1])/float64(wall[0]), "speedup")
	b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-ratio")
}

// nopHook is a go-redis hook that only passes calls on.
type nopHook struct{}

func (nopHook) DialHook(next goredis.DialHook) goredis.DialHook          { return next }
func (nopHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }
func (nopHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// BenchmarkHookedPublish is the cost of making Publish visible to go-redis
// hooks: a Transport whose client has a hook that does nothing beside one
// whose client has none ("goredis" in the metrics is the hooked one).
func BenchmarkHookedPublish(b *testing.B) {
	url := benchURL(b)
	ctx := context.Background()
	for _, g := range []int{0, 64} {
		b.Run(fmt.Sprintf("goroutines=%d", g), func(b *testing.B) {
			ch := chanName("bench")
			plain, hooked := open(b, url), open(b, url)
			hooked.Client().AddHook(nopHook{})
			msg := transport.Message{Channel: ch, Payload: benchPayload}
			interleaveCPU(b, max(500, 16*g),
				onN(g, func() error { return plain.Publish(ctx, msg) }),
				onN(g, func() error { return hooked.Publish(ctx, msg) }))
		})
	}
}
