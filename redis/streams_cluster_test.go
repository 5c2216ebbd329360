package redis_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/eventpub/eventpub/conformance"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// clusterStreams returns a Transport in mode on a caller-owned cluster
// client; both are closed when the test ends.
func clusterStreams(t testing.TB, addrs []string, opts ...redis.Option) *redis.Transport {
	t.Helper()
	client := goredis.NewClusterClient(&goredis.ClusterOptions{
		Addrs: addrs, DialTimeout: 2 * time.Second, ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second,
	})
	t.Cleanup(func() { _ = client.Close() })
	tr, err := redis.New(client, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// TestStreamsCluster runs streams and dual (sharded) mode on a 3-master
// Redis Cluster: each channel's stream lives on the shard of its slot,
// and one subscription reads streams of many slots.
func TestStreamsCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starting a 3-node Redis Cluster takes a few seconds; skipped with -short")
	}
	c := brokertest.StartRedisCluster(t, 3)
	conformance.Run(t, conformance.Harness{
		Name: "redis-cluster-streams",
		New: func(t testing.TB) transport.Transport {
			return clusterStreams(t, c.Addrs(), redis.WithStreams(redis.StreamsConfig{MaxLen: 20000}))
		},
	})
	conformance.Run(t, conformance.Harness{
		Name: "redis-cluster-dual-sharded",
		New: func(t testing.TB) transport.Transport {
			return clusterStreams(t, c.Addrs(), redis.WithDual(redis.StreamsConfig{}), redis.WithSharded(true))
		},
	})

	t.Run("KeysSpreadAcrossShards", func(t *testing.T) {
		tr := clusterStreams(t, c.Addrs(), redis.WithStreams(redis.StreamsConfig{}))
		base := chanName("spread")
		chans := make([]string, 30)
		batch := make([]transport.Message, len(chans))
		for i := range chans {
			chans[i] = fmt.Sprintf("%s:%d", base, i)
			batch[i] = transport.Message{Channel: chans[i], Payload: []byte(chans[i]), Header: map[string]string{"i": fmt.Sprint(i)}}
		}
		sub, err := tr.Subscribe(ctx5(t), chans...)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		if err := tr.PublishBatch(ctx5(t), batch); err != nil {
			t.Fatal(err)
		}
		got := map[string]bool{}
		for range chans {
			m := next(t, sub)
			if string(m.Payload) != m.Channel || m.Header["i"] == "" {
				t.Fatalf("payload %q headers %v on %q", m.Payload, m.Header, m.Channel)
			}
			got[m.Channel] = true
		}
		if len(got) != len(chans) {
			t.Fatalf("got %d distinct channels, want %d", len(got), len(chans))
		}
		// Every master holds some of the streams, each under its own key.
		for _, n := range c.Nodes {
			client := goredis.NewClient(&goredis.Options{Addr: n.Addr()})
			held := 0
			for _, ch := range chans {
				if client.ClusterKeySlot(context.Background(), ch).Val() >= 0 && client.Exists(context.Background(), ch).Val() == 1 {
					held++
				}
			}
			_ = client.Close()
			if held == 0 || held == len(chans) {
				t.Errorf("node %s holds %d of %d streams; want them spread by slot", n.Addr(), held, len(chans))
			}
		}
	})
}
