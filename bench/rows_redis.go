package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub"
	epredis "github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// goroutines is the concurrency of the "many callers" rows.
const goroutines = 64

// pipelineDepth is the depth of the hand-written pipeline peer, as
// redis-benchmark -P 64.
const pipelineDepth = 64

func openRedis(e *env) (*epredis.Transport, error) {
	ctx, cancel := ctxFor(10 * time.Second)
	defer cancel()
	tr, err := epredis.Open(ctx, e.redisURL)
	if err != nil {
		return nil, err
	}
	if err := tr.Ping(ctx); err != nil {
		tr.Close()
		return nil, err
	}
	return tr, nil
}

func goRedis(e *env) (*goredis.Client, error) {
	opt, err := goredis.ParseURL(e.redisURL)
	if err != nil {
		return nil, err
	}
	return goredis.NewClient(opt), nil
}

// concurrently calls publish from n goroutines for d and returns msg/s.
func concurrently(n int, d time.Duration, publish func(ctx context.Context) error) (sample, error) {
	ctx, cancel := ctxFor(d + 30*time.Second)
	defer cancel()
	var count atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(d)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := int64(0)
			for time.Now().Before(deadline) {
				if err := publish(ctx); err != nil {
					firstErr.CompareAndSwap(nil, err)
					break
				}
				k++
			}
			count.Add(k)
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if err, _ := firstErr.Load().(error); err != nil {
		return sample{}, err
	}
	return sample{value: float64(count.Load()) / el.Seconds(), msgs: float64(count.Load())}, nil
}

// asyncCapacity is the queue of the async rows: the README's
// WithAsync(10000, …). One goroutine publishing as fast as it can fills
// it, then waits for room (Block) while the broker catches up, as a
// service publishing faster than its broker takes does.
const asyncCapacity = 10000

// asyncDrain publishes n messages through an async Publisher with a queue
// of capacity from one goroutine and closes it, which waits until the
// broker confirmed every one; it returns msg/s over the whole.
func asyncDrain(tr transport.Transport, n, capacity int, publish func(p *eventpub.Publisher) error) (sample, error) {
	start := time.Now()
	pub := eventpub.New(tr, eventpub.WithAsync(capacity, eventpub.Block), eventpub.WithKeepOpen())
	for range n {
		if err := publish(pub); err != nil {
			pub.Close(context.Background())
			return sample{}, err
		}
	}
	ctx, cancel := ctxFor(2 * time.Minute)
	defer cancel()
	if err := pub.Close(ctx); err != nil {
		return sample{}, err
	}
	el := time.Since(start)
	if m := pub.Metrics(); m.Published != uint64(n) {
		return sample{}, fmt.Errorf("published %d of %d", m.Published, n)
	}
	return sample{value: float64(n) / el.Seconds(), msgs: float64(n)}, nil
}

// syncFor publishes from one goroutine for d and returns msg/s.
func syncFor(d time.Duration, publish func(ctx context.Context) error) (sample, error) {
	return concurrently(1, d, publish)
}

func redisSpecs() []spec {
	return []spec{{
		what:  "Redis sync Publish, 64 goroutines",
		short: "Redis sync, 64 goroutines",
		unit:  msgPerSec,
		needs: "redis",
		cpu:   true,
		setup: func(e *env) ([]contender, func(), error) {
			tr, err := openRedis(e)
			if err != nil {
				return nil, nil, err
			}
			plain, err := goRedis(e)
			if err != nil {
				return nil, nil, err
			}
			auto, err := goRedis(e)
			if err != nil {
				return nil, nil, err
			}
			ap, err := auto.AutoPipeline()
			if err != nil {
				return nil, nil, fmt.Errorf("go-redis AutoPipeline: %w", err)
			}
			ch := e.name("bench:sync64:")
			msg := transport.Message{Channel: ch, Payload: e.payload}
			d := e.d(500 * time.Millisecond)
			return []contender{
					{"eventpub", func() (sample, error) {
						return concurrently(goroutines, d, func(ctx context.Context) error { return tr.Publish(ctx, msg) })
					}},
					{"go-redis Publish", func() (sample, error) {
						return concurrently(goroutines, d, func(ctx context.Context) error { return plain.Publish(ctx, ch, e.payload).Err() })
					}},
					{"go-redis AutoPipeline", func() (sample, error) {
						return concurrently(goroutines, d, func(ctx context.Context) error { return ap.Publish(ctx, ch, e.payload).Err() })
					}},
				}, func() {
					tr.Close()
					plain.Close()
					ap.Close()
					auto.Close()
				}, nil
		},
	}, {
		what:  "Redis sync Publish, 1 goroutine",
		short: "Redis sync, 1 goroutine",
		unit:  msgPerSec,
		needs: "redis",
		setup: func(e *env) ([]contender, func(), error) {
			tr, err := openRedis(e)
			if err != nil {
				return nil, nil, err
			}
			c, err := goRedis(e)
			if err != nil {
				return nil, nil, err
			}
			ch := e.name("bench:sync1:")
			msg := transport.Message{Channel: ch, Payload: e.payload}
			d := e.d(500 * time.Millisecond)
			return []contender{
				{"eventpub", func() (sample, error) {
					return syncFor(d, func(ctx context.Context) error { return tr.Publish(ctx, msg) })
				}},
				{"go-redis Publish", func() (sample, error) {
					return syncFor(d, func(ctx context.Context) error { return c.Publish(ctx, ch, e.payload).Err() })
				}},
			}, func() { tr.Close(); c.Close() }, nil
		},
	}, redisAsync("Redis WithAsync, 1 goroutine, until all acked", "Redis async",
		"queue of 10 000 (the README's); peers: PUBLISH pipelined 64 deep by hand with go-redis, and redis-benchmark -P 64 on one connection and on its default 50",
		func(int) int { return asyncCapacity }), {
		what:  "Redis: async PublishEvent vs sync, 1 goroutine",
		short: "Redis: async ÷ sync PublishEvent",
		note:  "both sides eventpub; async until all acked",
		unit:  msgPerSec,
		needs: "redis",
		setup: func(e *env) ([]contender, func(), error) {
			tr, err := openRedis(e)
			if err != nil {
				return nil, nil, err
			}
			return asyncVsSync(e, tr, e.n(100000))
		},
	}, redisAsync("Redis WithAsync, whole burst queued, until all acked", "Redis async, burst queued",
		"as the row above with a queue as large as the burst (300 000), which holds every message at once: the queue's memory is touched for the first time",
		func(n int) int { return n }),
	}
}

// redisAsync is a "Redis WithAsync" row: one goroutine publishing a
// burst through a queue of capacity(burst), against a hand-written
// go-redis pipeline and redis-benchmark.
func redisAsync(what, short, note string, capacity func(n int) int) spec {
	return spec{
		what:  what,
		short: short,
		note:  note,
		unit:  msgPerSec,
		needs: "redis",
		cpu:   true,
		setup: func(e *env) ([]contender, func(), error) {
			tr, err := openRedis(e)
			if err != nil {
				return nil, nil, err
			}
			c, err := goRedis(e)
			if err != nil {
				return nil, nil, err
			}
			ch := e.name("bench:async:")
			n := e.n(300000)
			ctx := context.Background()
			sides := []contender{
				{"eventpub", func() (sample, error) {
					return asyncDrain(tr, n, capacity(n), func(p *eventpub.Publisher) error { return p.Publish(ctx, ch, e.payload) })
				}},
				{"go-redis pipeline of 64", func() (sample, error) {
					start := time.Now()
					for sent := 0; sent < n; sent += pipelineDepth {
						p := c.Pipeline()
						for range min(pipelineDepth, n-sent) {
							p.Publish(ctx, ch, e.payload)
						}
						if _, err := p.Exec(ctx); err != nil {
							return sample{}, err
						}
					}
					return sample{value: float64(n) / time.Since(start).Seconds(), msgs: float64(n)}, nil
				}},
			}
			for _, clients := range []int{1, 50} {
				if rb, ok := redisBenchmark(e, ch, n, clients); ok {
					sides = append(sides, rb)
				}
			}
			return sides, func() { tr.Close(); c.Close() }, nil
		},
	}
}

// asyncVsSync compares PublishEvent through an async Publisher (n events,
// until all acked) with a synchronous one (for a fixed time).
func asyncVsSync(e *env, tr transport.Transport, n int) ([]contender, func(), error) {
	data := committed()
	sync := eventpub.New(tr, eventpub.WithKeepOpen(), eventpub.WithNamespace(e.name("bench")))
	d := e.d(500 * time.Millisecond)
	return []contender{
		{"eventpub async", func() (sample, error) {
			ctx := context.Background()
			start := time.Now()
			pub := eventpub.New(tr, eventpub.WithAsync(asyncCapacity, eventpub.Block), eventpub.WithKeepOpen(), eventpub.WithNamespace(e.name("bench")))
			for range n {
				if err := pub.PublishEvent(ctx, "documentation_committed", data); err != nil {
					return sample{}, err
				}
			}
			cctx, cancel := ctxFor(2 * time.Minute)
			defer cancel()
			if err := pub.Close(cctx); err != nil {
				return sample{}, err
			}
			return sample{value: float64(n) / time.Since(start).Seconds()}, nil
		}},
		{"eventpub sync", func() (sample, error) {
			return syncFor(d, func(ctx context.Context) error {
				return sync.PublishEvent(ctx, "documentation_committed", data)
			})
		}},
	}, func() { tr.Close() }, nil
}

// committed is the data of CodeWorm's documentation_committed event.
func committed() map[string]any {
	return map[string]any{
		"commit": "1c8540d", "commit_message": "docs: EventPublisher", "doc_type": "class",
		"language": "python", "repo": "CodeWorm", "target": "codeworm/core/events.py:EventPublisher",
		"time_ms": 2310.5, "tokens": 1834,
	}
}
