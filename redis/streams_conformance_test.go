package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/conformance"
	"github.com/eventpub/eventpub/internal/brokertest"
	goredis "github.com/redis/go-redis/v9"
)

// The suite on streams and dual mode, selected by URL as a user would.
// maxlen stays above the 10000 messages of the suite's concurrency check:
// entries trimmed before a slow reader gets to them are gone for it.

func TestConformanceStreamsMiniredis(t *testing.T) {
	m := brokertest.StartMiniredis(t)
	conformance.Run(t, streamsHarness("miniredis-streams", m.URL()+"?mode=streams&maxlen=20000", m.Stop, m.Start))
}

// Consumer-group mode is not run through the suite: subscriptions in one
// group share its entries (each goes to one of them), which is the point
// of a group and not the suite's fan-out. streams_group_test.go checks it.

func TestConformanceDualMiniredis(t *testing.T) {
	m := brokertest.StartMiniredis(t)
	conformance.Run(t, streamsHarness("miniredis-dual", m.URL()+"?mode=dual", m.Stop, m.Start))
}

// TestConformanceStreamsRealRedis runs on the shared server of
// EVENTPUB_REDIS_URL, without the outage checks. Its streams get a prefix
// of their own (which the suite exercises too) and are deleted at the end.
func TestConformanceStreamsRealRedis(t *testing.T) {
	url := brokertest.RealRedisURL()
	if url == "" {
		t.Skip("EVENTPUB_REDIS_URL is not set: no real Redis to test against")
	}
	prefix := chanName("eventpub-test") + ":"
	t.Cleanup(func() { deleteKeys(t, url, prefix) })
	t.Run("streams", func(t *testing.T) {
		conformance.Run(t, streamsHarness("redis-streams", withQuery(url, "mode=streams&maxlen=20000&prefix="+prefix), nil, nil))
	})
	t.Run("dual", func(t *testing.T) {
		conformance.Run(t, streamsHarness("redis-dual", withQuery(url, "mode=dual&prefix="+prefix), nil, nil))
	})
}

// deleteKeys deletes the keys under prefix on the Redis at url.
func deleteKeys(t testing.TB, url, prefix string) {
	o, err := goredis.ParseURL(url)
	if err != nil {
		t.Error(err)
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

// TestConformanceStreamsRedisServer runs streams mode on a redis-server
// this test starts, killed and restarted for the outage checks.
func TestConformanceStreamsRedisServer(t *testing.T) {
	s := brokertest.StartRedisServer(t)
	conformance.Run(t, streamsHarness("redis-server-streams", s.URL()+"?mode=streams", s.Stop, s.Start))
}

// streamsHarness is harness with the channel names every driver refuses
// (transport.ValidateChannel), which streams mode checks before XADD.
func streamsHarness(name, url string, stop, start func()) conformance.Harness {
	h := harness(name, url, stop, start)
	h.InvalidChannels = []string{"nul\x00byte", "line\nbreak", "\xff\xfe", strings.Repeat("k", 256)}
	return h
}
