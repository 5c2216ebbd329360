package deliverytest

import (
	"context"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// redisStreamsBackends returns the Redis brokers to test in streams mode:
// each message is an XADD, and a subscriber reads the stream from where it
// stopped after a reconnect, so nothing accepted is lost across a cut link.
// Subscribers start at new entries (start=new), as the tests' pub/sub
// subscribers do: a replay of the whole stream would also show the copies
// an at-least-once resend stored after a restart.
func redisStreamsBackends(t testing.TB) []backend {
	var out []backend
	if brokertest.RedisServerBinary() != "" {
		// Out of process: a miniredis keeping 20000-entry streams in the
		// test's own heap slows the paced publisher under -race.
		rs := brokertest.StartRedisServer(t)
		out = append(out, redisStreamsBackend("redis-server-streams", rs.Addr(), rs.Stop, rs.Start, ""))
	} else {
		// On miniredis the subscribers read in a consumer group: miniredis
		// answers each blocked XREAD by scanning the whole stream again on
		// every command it runs (quadratic in a 20000-message run), while
		// XREADGROUP finds its place by binary search.
		mr := brokertest.StartMiniredis(t)
		out = append(out, redisStreamsBackend("miniredis-streams-group", mr.Addr(), mr.Stop, mr.Start, "&group="))
	}
	if u := brokertest.RealRedisURL(); u != "" {
		// The streams live on a shared server: they get a prefix of their
		// own and are deleted when the test ends.
		prefix := unique("eventpub-test-") + ":"
		t.Cleanup(func() { deleteKeys(u, prefix) })
		out = append(out, redisStreamsBackend("redis-streams", hostOf(t, u), nil, nil, "&prefix="+prefix))
	}
	return out
}

// redisStreamsBackend dials redis://addr/0 in streams mode with query
// added; a query ending in "group=" gets a fresh group name each dial.
func redisStreamsBackend(name, addr string, stop, start func(), query string) backend {
	return backend{
		name: name, addr: addr, stop: stop, start: start,
		dial: func(t testing.TB, addr string) transport.Transport {
			url := "redis://" + addr + "/0?mode=streams&start=new" + query
			if query == "&group=" {
				url += unique("g") + "&consumer=c"
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

// deleteKeys deletes the keys under prefix on the Redis at url.
func deleteKeys(url, prefix string) {
	o, err := goredis.ParseURL(url)
	if err != nil {
		return
	}
	c := goredis.NewClient(o)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
}
