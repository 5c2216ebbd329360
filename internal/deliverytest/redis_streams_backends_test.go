package deliverytest

import (
	"context"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

// redisStreamsBackends returns the Redis brokers to test in streams mode:
// each message is an XADD, and a subscriber reads the stream from where it
// stopped after a reconnect, so nothing accepted is lost across a cut link.
// Subscribers start at new entries (start=new), as the tests' pub/sub
// subscribers do: a replay of the whole stream would also show the copies
// an at-least-once resend stored after a restart.
func redisStreamsBackends(t testing.TB) []backend {
	mr := brokertest.StartMiniredis(t)
	// On miniredis the subscribers read in a consumer group: miniredis
	// answers each blocked XREAD by scanning the whole stream again on
	// every command it runs (quadratic in a 20000-message run), while
	// XREADGROUP finds its place by binary search.
	out := []backend{redisStreamsBackend("miniredis-streams-group", mr.Addr(), mr.Stop, mr.Start, true)}
	if u := brokertest.RealRedisURL(); u != "" {
		out = append(out, redisStreamsBackend("redis-streams", hostOf(t, u), nil, nil, false))
	}
	return out
}

func redisStreamsBackend(name, addr string, stop, start func(), group bool) backend {
	return backend{
		name: name, addr: addr, stop: stop, start: start,
		dial: func(t testing.TB, addr string) transport.Transport {
			url := "redis://" + addr + "/0?mode=streams&start=new"
			if group {
				url += "&group=" + unique("g") + "&consumer=c"
			}
			tr, err := redis.Open(context.Background(), url, redis.WithDialTimeout(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tr.Close() })
			return tr
		},
	}
}
