package nats_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
)

// nodeOf returns the cluster node tr is connected to.
func nodeOf(t *testing.T, c *brokertest.NATSCluster, tr *nats.Transport) *brokertest.NATSServer {
	t.Helper()
	url := tr.Conn().ConnectedUrl()
	for _, s := range c.Servers {
		if s.Running() && strings.HasSuffix(url, strings.TrimPrefix(s.URL(), "nats://")) {
			return s
		}
	}
	t.Fatalf("connected to %q, which is no running node", url)
	return nil
}

// TestClusterFailover publishes continuously while the node the publisher
// is connected to shuts down, and shows publishing and subscribing carry on
// through another node. Core NATS loses what was in flight (counted); with
// JetStream replicas 3 and message ids nothing is lost.
func TestClusterFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the cluster test starts three servers and waits for elections")
	}
	cluster := brokertest.StartNATSCluster(t, 3)
	t.Run("jetstream", func(t *testing.T) { clusterJetStream(t, cluster) })
	t.Run("core", func(t *testing.T) { clusterCore(t, cluster) })
}

func clusterCore(t *testing.T, cluster *brokertest.NATSCluster) {
	const total, killAt = 3000, 1000
	pub, subT := open(t, cluster.URLs()), open(t, cluster.URLs())
	ch := "failover-" + unique()
	sub, err := subT.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	victim := nodeOf(t, cluster, pub)
	subOnVictim := nodeOf(t, cluster, subT) == victim
	okCount, refused, okAfterKill := 0, 0, 0
	for i := range total {
		if i == killAt {
			victim.Stop()
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := pub.Publish(ctx, transport.Message{Channel: ch, Payload: strconv.AppendInt(nil, int64(i), 10)})
		cancel()
		switch {
		case err == nil:
			okCount++
			if i >= killAt {
				okAfterKill++
			}
		case errors.Is(err, transport.ErrUnavailable):
			refused++
		default:
			t.Fatalf("Publish %d: %v", i, err)
		}
		time.Sleep(200 * time.Microsecond)
	}
	received, afterKill := drain(sub, killAt)
	lost := okCount - received
	t.Logf("core: %d published, %d accepted (%d after the kill), %d refused with ErrUnavailable, %d received (%d after the kill), %d lost; subscriber on the stopped node: %v",
		total, okCount, okAfterKill, refused, received, afterKill, lost, subOnVictim)
	if okAfterKill == 0 || afterKill == 0 {
		t.Fatal("publishing or subscribing did not carry on after the node stopped")
	}
	if nodeOf(t, cluster, pub) == victim {
		t.Fatal("the publisher is still on the stopped node")
	}
	if lost < 0 {
		t.Fatalf("received %d more than were accepted", -lost)
	}
	victim.Start()
}

// drain reads sub until it has been quiet for a second; it returns how many
// messages came and how many of them had a sequence at or after mark.
func drain(sub transport.Subscription, mark int) (n, after int) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		m, err := sub.Next(ctx)
		cancel()
		if err != nil {
			return n, after
		}
		n++
		if i, _ := strconv.Atoi(string(m.Payload)); i >= mark {
			after++
		}
	}
}

func clusterJetStream(t *testing.T, cluster *brokertest.NATSCluster) {
	const total, killAt = 600, 200
	cfg := nats.JetStreamConfig{Stream: "FAILOVER", Replicas: 3}
	pub := open(t, cluster.URLs(), nats.WithJetStream(cfg))
	ch := "failover-js-" + unique()
	// The R3 stream needs every peer known to the meta leader: retry the
	// creation for a while on a cluster that has just formed.
	waitFor(t, "an R3 stream to be created", func() bool {
		return pub.Publish(ctxT(t), transport.Message{Channel: ch + "-warmup", Payload: []byte("w")}) == nil
	})
	victim := nodeOf(t, cluster, pub)
	retries := 0
	for i := range total {
		if i == killAt {
			victim.Stop()
		}
		msg := transport.Message{Channel: ch, Payload: strconv.AppendInt(nil, int64(i), 10),
			Header: map[string]string{transport.HeaderMessageID: fmt.Sprintf("%s-%d", ch, i)}}
		// A new stream leader is elected within seconds; a loaded machine
		// (the race detector, other packages' tests) can take longer.
		giveUp := time.Now().Add(30 * time.Second)
		for attempt := 0; ; attempt++ {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			err := pub.Publish(ctx, msg)
			cancel()
			if err == nil {
				break
			}
			if !errors.Is(err, transport.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Publish %d: %v", i, err)
			}
			if time.Now().After(giveUp) {
				t.Fatalf("Publish %d still fails after %d attempts in 30 s: %v", i, attempt+1, err)
			}
			retries++
			time.Sleep(50 * time.Millisecond)
		}
	}
	if nodeOf(t, cluster, pub) == victim {
		t.Fatal("the publisher is still on the stopped node")
	}
	// A subscriber through a surviving node reads back every message once.
	subT := open(t, cluster.URLs(), nats.WithJetStream(cfg))
	sub, err := subT.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatalf("Subscribe after the node stopped: %v", err)
	}
	seen := make([]bool, total)
	got, dups := 0, 0
	for got+dups < total {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		m, err := sub.Next(ctx)
		cancel()
		if err != nil {
			break
		}
		i, err := strconv.Atoi(string(m.Payload))
		if err != nil || i < 0 || i >= total {
			t.Fatalf("unexpected message %q", m.Payload)
		}
		if seen[i] {
			dups++
			continue
		}
		seen[i] = true
		got++
	}
	t.Logf("jetstream R3: %d published with acks, %d retried attempts during the failover, %d read back, %d lost, %d duplicates",
		total, retries, got, total-got, dups)
	if got != total || dups != 0 {
		t.Fatalf("read back %d of %d with %d duplicates, want all once", got, total, dups)
	}
	victim.Start()
	waitFor(t, "the restarted node to rejoin", func() bool {
		return victim.Server().NumRoutes() >= len(cluster.Servers)-1
	})
}
