package redis_test

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// The CompareStreams benchmarks put streams mode beside go-redis XAdd by
// hand (same key, same MAXLEN ~ cap, same 180-byte payload in a "payload"
// field) on the real Redis of EVENTPUB_REDIS_URL, interleaved in one run:
//
//	go test -run '^$' -bench CompareStreams -benchmem ./redis/

const benchMaxLen = 10000

func streamsBench(b *testing.B) (url string, tr *redis.Transport, c *goredis.Client, xadd func() error, msg transport.Message) {
	url = benchURL(b)
	key := chanName("bench-streams")
	tr = open(b, withQuery(url, "mode=streams&maxlen=10000"))
	c = plainClient(b, url)
	b.Cleanup(func() { c.Del(context.Background(), key) })
	args := &goredis.XAddArgs{Stream: key, MaxLen: benchMaxLen, Approx: true, Values: []any{"payload", benchPayload}}
	ctx := context.Background()
	xadd = func() error { return c.XAdd(ctx, args).Err() }
	return url, tr, c, xadd, transport.Message{Channel: key, Payload: benchPayload}
}

func BenchmarkCompareStreamsSequential(b *testing.B) {
	_, tr, _, xadd, msg := streamsBench(b)
	ctx := context.Background()
	brokertest.Interleave(b, 500, "goredis", func(n int) {
		for range n {
			if err := tr.Publish(ctx, msg); err != nil {
				b.Fatal(err)
			}
		}
	}, func(n int) {
		for range n {
			if err := xadd(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkCompareStreamsParallel64(b *testing.B) {
	_, tr, _, xadd, msg := streamsBench(b)
	ctx := context.Background()
	brokertest.Interleave(b, 32000, "goredis",
		on64(func() error { return tr.Publish(ctx, msg) }),
		on64(xadd))
}

func BenchmarkCompareStreamsBatch64(b *testing.B) {
	_, tr, c, _, msg := streamsBench(b)
	ctx := context.Background()
	msgs := make([]transport.Message, 64)
	for i := range msgs {
		msgs[i] = msg
	}
	bp := tr
	args := &goredis.XAddArgs{Stream: msg.Channel, MaxLen: benchMaxLen, Approx: true, Values: []any{"payload", benchPayload}}
	brokertest.Interleave(b, 50, "goredis", func(n int) {
		for range n {
			if err := bp.PublishBatch(ctx, msgs); err != nil {
				b.Fatal(err)
			}
		}
	}, func(n int) {
		for range n {
			pipe := c.Pipeline()
			for range 64 {
				pipe.XAdd(ctx, args)
			}
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
}
