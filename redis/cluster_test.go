package redis_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/conformance"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// clusterTransport returns a sharded Transport on a caller-owned cluster
// client; both are closed when the test ends.
func clusterTransport(t testing.TB, addrs []string) *redis.Transport {
	t.Helper()
	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs: addrs, DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second,
	})
	t.Cleanup(func() { _ = client.Close() })
	tr, err := redis.New(client, redis.WithSharded(true))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// TestCluster starts a 3-master Redis Cluster, runs the suite in sharded
// mode and checks that SPUBLISH of many channels reaches every shard.
func TestCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starting a 3-node Redis Cluster takes a few seconds; skipped with -short")
	}
	c := brokertest.StartRedisCluster(t, 3)
	conformance.Run(t, conformance.Harness{
		Name: "redis-cluster-sharded",
		New:  func(t testing.TB) transport.Transport { return clusterTransport(t, c.Addrs()) },
	})

	t.Run("SpreadsAcrossShards", func(t *testing.T) {
		before := spublishCalls(t, c)
		tr := clusterTransport(t, c.Addrs())
		ctx := ctx5(t)
		const N = 300
		batch := make([]transport.Message, 0, N)
		for i := range N {
			m := transport.Message{Channel: fmt.Sprintf("spread:%d", i), Payload: []byte("x")}
			if i%2 == 0 {
				if err := tr.Publish(ctx, m); err != nil {
					t.Fatalf("Publish: %v", err)
				}
			} else {
				batch = append(batch, m)
			}
		}
		if err := tr.PublishBatch(ctx, batch); err != nil {
			t.Fatalf("PublishBatch: %v", err)
		}
		after := spublishCalls(t, c)
		total := 0
		for i := range after {
			d := after[i] - before[i]
			total += d
			// Slots are split evenly, so each shard gets about N/3.
			if d < N/10 {
				t.Errorf("node %s ran %d of %d SPUBLISH calls; want the load spread over the shards", c.Nodes[i].Addr(), d, N)
			}
		}
		if total != N {
			t.Errorf("the shards ran %d SPUBLISH calls, want %d", total, N)
		}
		t.Logf("SPUBLISH calls per shard: before %v after %v", before, after)
	})

	t.Run("ShardedSubscribeManySlots", func(t *testing.T) {
		tr := clusterTransport(t, c.Addrs())
		chans := []string{chanName("a"), chanName("b"), chanName("c"), chanName("d")}
		sub, err := tr.Subscribe(ctx5(t), chans...)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		for _, ch := range chans {
			if err := tr.Publish(ctx5(t), transport.Message{Channel: ch, Payload: []byte(ch)}); err != nil {
				t.Fatal(err)
			}
		}
		got := map[string]bool{}
		for range chans {
			m := next(t, sub)
			if string(m.Payload) != m.Channel {
				t.Fatalf("payload %q on %q", m.Payload, m.Channel)
			}
			got[m.Channel] = true
		}
		if len(got) != len(chans) {
			t.Fatalf("got %v, want all of %v", got, chans)
		}
		if _, err := tr.SubscribePattern(ctx5(t), "a:*"); err == nil {
			t.Fatal("SubscribePattern in sharded mode succeeded; it cannot see SPUBLISH messages")
		}
	})
}

// spublishCalls returns cmdstat_spublish calls of each node.
func spublishCalls(t *testing.T, c *brokertest.RedisCluster) []int {
	t.Helper()
	out := make([]int, len(c.Nodes))
	for i, n := range c.Nodes {
		client := goredis.NewClient(&goredis.Options{Addr: n.Addr()})
		info, err := client.Info(context.Background(), "commandstats").Result()
		_ = client.Close()
		if err != nil {
			t.Fatal(err)
		}
		for line := range strings.Lines(info) {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_spublish:calls="); ok {
				out[i], _ = strconv.Atoi(rest[:strings.IndexByte(rest, ',')])
			}
		}
	}
	return out
}
