package deliverytest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/eventpub/eventpub/transport"
)

// processBackends returns Redis, core NATS and JetStream on broker
// processes this test owns, so that it can kill -9 them, plus the shared
// real servers (without the kill) when their URLs are set.
func processBackends(t *testing.T) []backend {
	var out []backend
	if brokertest.RedisServerBinary() != "" {
		rs := brokertest.StartRedisServer(t)
		out = append(out, redisBackend("redis-server", rs.Addr(), rs.Stop, rs.Start))
	} else {
		t.Log("redis-server is not installed: Redis is left out")
	}
	np := startNATSProc(t)
	url := "nats://" + np.Addr()
	out = append(out, natsBackend(t, "nats-server", url, true, np.Kill, np.Start),
		natsBackend(t, "nats-server-core", url, false, np.Kill, np.Start))
	if u := brokertest.RealRedisURL(); u != "" {
		out = append(out, redisBackend("redis", hostOf(t, u), nil, nil))
	}
	if u := brokertest.RealNATSURL(); u != "" {
		out = append(out, natsBackend(t, "nats", u, true, nil, nil), natsBackend(t, "nats-core", u, false, nil, nil))
	}
	return out
}

// TestAtLeastOnceThroughCutsRefusalAndKill publishes in async mode through
// 5 hard cuts of the link, a 3 s refusal and (on brokers the test owns) a
// kill -9 restart: every message is delivered at least once, none is lost,
// the counters add up, and the duplicates (a batch resent after a cut that
// lost its confirmation) are counted and reported.
func TestAtLeastOnceThroughCutsRefusalAndKill(t *testing.T) {
	if testing.Short() {
		t.Skip("about 10 s of paced publishing per broker; skipped with -short")
	}
	for _, b := range processBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			ns := unique("alo")
			sub, err := b.dial(t, b.addr).Subscribe(context.Background(), ns+":events")
			if err != nil {
				t.Fatal(err)
			}
			c := collect(t, sub)
			marker := b.dial(t, b.addr)
			proxy := faultproxy.Start(t, b.addr)
			pub := eventpub.New(b.dial(t, proxy.Addr()), eventpub.WithNamespace(ns), eventpub.WithAsync(100000, eventpub.DropNewest),
				eventpub.WithErrorHandler(func(err error) {
					if !strings.Contains(err.Error(), "retrying") {
						t.Logf("reported: %v", err)
					}
				}))
			defer pub.Close(context.Background())

			const n = 12000 // 2500 a second
			var faults sync.WaitGroup
			calls, failed := paced(t, pub, n, 5, 2*time.Millisecond, func(seq int) {
				switch {
				case seq > 0 && seq <= 5*1000 && seq%1000 == 0:
					proxy.CutHard()
					proxy.Pass()
				case seq == 6000:
					faults.Add(1)
					go func() {
						defer faults.Done()
						proxy.Refuse()
						time.Sleep(3 * time.Second)
						proxy.Pass()
					}()
				case seq == 9000 && b.stop != nil:
					faults.Wait()
					faults.Add(1)
					go func() {
						defer faults.Done()
						proxy.Refuse()
						b.stop() // kill -9
						b.start()
						// Let the subscriber come back before the queue
						// drains: pub/sub keeps nothing for a subscriber
						// that is away.
						waitSubscribed(t, c, marker, ns+":events")
						proxy.Pass()
					}()
				}
			})
			faults.Wait()
			if len(failed) != 0 || !calls.ok() {
				t.Errorf("%d calls failed (e.g. %v); %v", len(failed), anyErr(failed), calls)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			if err := pub.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			m := pub.Metrics()
			checkMetricsAddUp(t, m)
			got := c.waitForSet(n, 30*time.Second)
			seen := make(map[int]int, n)
			for _, s := range got {
				seen[s]++
			}
			lost := 0
			for s := range n {
				if seen[s] == 0 {
					lost++
				}
			}
			dups := len(got) - len(seen)
			t.Logf("metrics %+v; received %d (%d distinct), lost %d, duplicates %d; publish calls: %v",
				m, len(got), len(seen), lost, dups, calls)
			if lost != 0 || m.Published != n || m.Failed != 0 || m.Dropped != 0 {
				t.Fatalf("lost %d of %d; metrics %+v", lost, n, m)
			}
		})
	}
}

// waitSubscribed publishes markers on channel from tr until the collector
// has seen one, so the subscriber is back after a restart.
func waitSubscribed(t *testing.T, c *collector, tr transport.Transport, channel string) {
	before := c.markerCount()
	deadline := time.Now().Add(20 * time.Second)
	for c.markerCount() == before {
		if time.Now().After(deadline) {
			t.Errorf("the subscriber did not come back within 20 s")
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = tr.Publish(ctx, transport.Message{Channel: channel, Payload: []byte(`{"marker":true}`)})
		cancel()
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCloseOnStalledLinkKeepsDeadline: Close with a 2 s context while the
// link is stalled returns in time, with a *CloseError counting every
// message the broker did not confirm, and Metrics agree.
func TestCloseOnStalledLinkKeepsDeadline(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			proxy := faultproxy.Start(t, b.addr)
			pub := eventpub.New(b.dial(t, proxy.Addr()), eventpub.WithNamespace(unique("closestall")), eventpub.WithAsync(2000, eventpub.DropNewest))
			ctx := context.Background()
			if err := pub.PublishEvent(ctx, "tick", map[string]any{"seq": -1}); err != nil {
				t.Fatal(err)
			}
			waitMetrics(t, pub, func(m eventpub.Metrics) bool { return m.Published == 1 })
			proxy.Stall()
			defer proxy.Pass()
			for i := range 1000 {
				if err := pub.PublishEvent(ctx, "tick", map[string]any{"seq": i}); err != nil {
					t.Fatal(err)
				}
			}
			closeCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			start := time.Now()
			err := pub.Close(closeCtx)
			took := time.Since(start)
			m := pub.Metrics()
			t.Logf("Close took %v: %v; metrics %+v", took, err, m)
			var ce *eventpub.CloseError
			if !errors.As(err, &ce) || ce.Undelivered == 0 {
				t.Fatalf("Close = %v, want a *CloseError counting what was not delivered", err)
			}
			checkMetricsAddUp(t, m)
			if m.Published+uint64(ce.Undelivered) != 1001 || m.Failed != uint64(ce.Undelivered) {
				t.Fatalf("metrics %+v do not match %d undelivered", m, ce.Undelivered)
			}
			if took > 2500*time.Millisecond {
				t.Fatalf("Close took %v with a 2 s context, want within 2.5 s", took)
			}
		})
	}
}

// TestSyncJetStreamFailsFastOnStall: during a 4 s stall, once one sync
// JetStream publish has found the link stalled, later calls fail at once
// with ErrUnavailable instead of waiting out the stall each; a call that
// sent its message and got no ack says the outcome is unknown.
func TestSyncJetStreamFailsFastOnStall(t *testing.T) {
	for _, b := range jetStreamBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			proxy := faultproxy.Start(t, b.addr)
			tr := b.dial(t, proxy.Addr())
			msg := transport.Message{Channel: unique("jsstall"), Payload: []byte(`{"seq":1}`)}
			if err := tr.Publish(context.Background(), msg); err != nil {
				t.Fatal(err)
			}
			proxy.Stall()
			stallEnd := time.Now().Add(4 * time.Second)
			timer := time.AfterFunc(time.Until(stallEnd), proxy.Pass)
			defer timer.Stop()
			defer proxy.Pass()
			// The first call sends its message and waits for the ack until
			// its own deadline: that is how the stall is found.
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			start := time.Now()
			err := tr.Publish(ctx, msg)
			first := time.Since(start)
			cancel()
			t.Logf("first call: %v after %v", err, first)
			if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, transport.ErrUnknownOutcome) || !errors.Is(err, transport.ErrUnavailable) {
				t.Fatalf("first call on the stalled link: %v, want its deadline and ErrUnknownOutcome (wrapping ErrUnavailable)", err)
			}
			var slowest time.Duration
			calls := 0
			for time.Until(stallEnd) > 500*time.Millisecond {
				t0 := time.Now()
				err := tr.Publish(context.Background(), msg)
				d := time.Since(t0)
				slowest = max(slowest, d)
				calls++
				if !errors.Is(err, transport.ErrUnavailable) || errors.Is(err, transport.ErrUnknownOutcome) {
					t.Fatalf("call %d during the stall: %v after %v, want ErrUnavailable (not sent)", calls, err, d)
				}
				time.Sleep(20 * time.Millisecond)
			}
			t.Logf("%d later calls during the stall, slowest %v", calls, slowest)
			if slowest >= 100*time.Millisecond {
				t.Fatalf("a call after the stall was detected took %v, want under 100 ms", slowest)
			}
		})
	}
}

// waitMetrics waits until ok holds for the publisher's metrics.
func waitMetrics(t *testing.T, pub *eventpub.Publisher, ok func(eventpub.Metrics) bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !ok(pub.Metrics()); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("metrics %+v", pub.Metrics())
		}
	}
}
