package deliverytest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/eventpub/eventpub/transport"
)

// TestBrokerRestartDuringAsyncPublishing restarts the broker in the middle
// of async publishing: the same Publisher carries on and its counters add up.
func TestBrokerRestartDuringAsyncPublishing(t *testing.T) {
	all := backends(t)
	if brokertest.RedisServerBinary() != "" {
		rs := brokertest.StartRedisServer(t)
		all = append(all, redisBackend("redis-server", rs.Addr(), rs.Stop, rs.Start))
	} else {
		t.Log("redis-server is not installed: the restart runs on miniredis only for Redis")
	}
	for _, b := range all {
		if b.stop == nil {
			continue // a shared real server is not ours to restart
		}
		t.Run(b.name, func(t *testing.T) {
			ns := unique("restart")
			pub := eventpub.New(b.dial(t, b.addr), eventpub.WithNamespace(ns), eventpub.WithAsync(10000, eventpub.DropNewest))
			defer pub.Close(context.Background())
			const n = 3000
			calls, failed := paced(t, pub, n, 10, 2*time.Millisecond, func(seq int) {
				if seq == n/3 {
					b.stop()
				}
				if seq == n/2 {
					b.start()
				}
			})
			if len(failed) != 0 || !calls.ok() {
				t.Fatalf("%d calls failed (e.g. %v); %v", len(failed), anyErr(failed), calls)
			}
			// Publishing resumed on the same Publisher: a subscriber that
			// joins now receives what it publishes next.
			sub, err := b.dial(t, b.addr).Subscribe(context.Background(), ns+":events")
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			c := collect(t, sub)
			ctx := context.Background()
			for seq := n; seq < n+100; seq++ {
				if err := pub.PublishEvent(ctx, "tick", map[string]any{"seq": seq}); err != nil {
					t.Fatal(err)
				}
			}
			closeCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			if err := pub.Close(closeCtx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			m := pub.Metrics()
			checkMetricsAddUp(t, m)
			if m.Accepted != n+100 || m.Published < n/2+100 {
				t.Fatalf("metrics %+v: publishing did not resume", m)
			}
			// (On JetStream the subscriber may also get some of the
			// backlog, published after it joined.)
			got := c.waitForSeq(n+99, 10*time.Second)
			got, _ = checkDelivery(t, b, got)
			for seq := n; seq < n+100; seq++ {
				if !slices.Contains(got, seq) {
					t.Fatalf("after the restart the subscriber got %d messages without %d: %v", len(got), seq, got)
				}
			}
			t.Logf("metrics after restart and close: %+v", m)
		})
	}
}

// TestCloseWhileDownReportsLoss: Close with a short deadline while the
// broker is unreachable returns how many messages were lost, does not hang,
// and leaks no goroutine (goleak in TestMain).
func TestCloseWhileDownReportsLoss(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			proxy := faultproxy.Start(t, b.addr)
			proxy.Cut()
			pub := eventpub.New(b.dial(t, proxy.Addr()), eventpub.WithNamespace(unique("close")), eventpub.WithAsync(1000, eventpub.DropNewest))
			ctx := context.Background()
			for i := 0; i < 50; i++ {
				if err := pub.PublishEvent(ctx, "tick", map[string]any{"seq": i}); err != nil {
					t.Fatal(err)
				}
			}
			closeCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := pub.Close(closeCtx)
			took := time.Since(start)
			var ce *eventpub.CloseError
			if !errors.As(err, &ce) || ce.Undelivered != 50 {
				t.Fatalf("Close = %v, want 50 undelivered", err)
			}
			if took > 3*time.Second {
				t.Fatalf("Close took %v with a 200ms deadline", took)
			}
			m := pub.Metrics()
			checkMetricsAddUp(t, m)
			if m.Failed != 50 {
				t.Fatalf("metrics %+v, want 50 failed", m)
			}
		})
	}
}

// TestSyncFailsFastWhileDown: in sync mode the first publish while the
// broker is unreachable fails within the dial timeout, and the next 1000
// fail at once.
func TestSyncFailsFastWhileDown(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			if b.nats && !b.jetstream {
				t.Skip("a sync core-NATS publish only buffers: it may be taken before the driver sees the link go, and a socket write can hold it up to PublishTimeout (nats/stall_test.go covers core mode)")
			}
			proxy := faultproxy.Start(t, b.addr)
			pub := eventpub.New(b.dial(t, proxy.Addr()), eventpub.WithNamespace(unique("sync")))
			defer pub.Close(context.Background())
			ctx := context.Background()
			if err := pub.PublishLog(ctx, map[string]any{"event": "up"}); err != nil {
				t.Fatalf("publish while up: %v", err)
			}
			proxy.Cut()
			start := time.Now()
			err := pub.PublishLog(ctx, map[string]any{"event": "down"})
			first := time.Since(start)
			if !errors.Is(err, transport.ErrUnavailable) {
				t.Fatalf("first publish while down: %v", err)
			}
			if first > 2*time.Second {
				t.Fatalf("first failure took %v, want within the dial timeout", first)
			}
			start = time.Now()
			for i := 0; i < 1000; i++ {
				if err := pub.PublishLog(ctx, map[string]any{"event": "down", "i": i}); !errors.Is(err, transport.ErrUnavailable) {
					t.Fatalf("publish %d while down: %v", i, err)
				}
			}
			rest := time.Since(start)
			if rest > time.Second {
				t.Fatalf("1000 publishes while down took %v, want well under a second", rest)
			}
			t.Logf("first failure after %v, next 1000 in %v", first, rest)
		})
	}
}

// TestConcurrentPublishAndClose: 64 goroutines publish while another closes
// the Publisher; no panic, no race, and the counters add up.
func TestConcurrentPublishAndClose(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			pub := eventpub.New(b.dial(t, b.addr), eventpub.WithNamespace(unique("conc")), eventpub.WithAsync(512, eventpub.Block))
			var ok atomic.Uint64
			var wg sync.WaitGroup
			for g := 0; g < 64; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						err := pub.PublishEvent(context.Background(), "tick", map[string]any{"seq": i})
						if errors.Is(err, eventpub.ErrClosed) {
							return
						}
						if err != nil {
							t.Errorf("publish: %v", err)
							return
						}
						ok.Add(1)
					}
				}()
			}
			time.Sleep(100 * time.Millisecond)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := pub.Close(ctx); err != nil {
				t.Fatalf("Close: %v", err)
			}
			wg.Wait()
			m := pub.Metrics()
			checkMetricsAddUp(t, m)
			if m.Published != ok.Load() || m.Published == 0 {
				t.Fatalf("%d calls succeeded, metrics %+v", ok.Load(), m)
			}
		})
	}
}

// TestSyncFailsFastWhileStalled: a link that stays open but carries nothing
// (a paused VM, dropped packets) costs a caller at most its own deadline,
// and soon every call fails at once, as when the broker is refused.
func TestSyncFailsFastWhileStalled(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			if b.nats && !b.jetstream {
				t.Skip("a sync core-NATS publish only buffers: it may be taken before the driver sees the link go, and a socket write can hold it up to PublishTimeout (nats/stall_test.go covers core mode)")
			}
			proxy := faultproxy.Start(t, b.addr)
			pub := eventpub.New(b.dial(t, proxy.Addr()), eventpub.WithNamespace(unique("stall")))
			defer pub.Close(context.Background())
			publish := func(d time.Duration) (time.Duration, error) {
				ctx, cancel := context.WithTimeout(context.Background(), d)
				defer cancel()
				start := time.Now()
				err := pub.PublishLog(ctx, map[string]any{"event": "x"})
				return time.Since(start), err
			}
			if _, err := publish(5 * time.Second); err != nil {
				t.Fatalf("publish while up: %v", err)
			}
			proxy.Stall()
			defer proxy.Pass()
			// Until the driver sees the stall, a call may wait out its own
			// 300 ms; one let through just before the driver marks the link
			// down can also wait for the reconnect's handshake, which holds
			// nats.go's lock up to ConnectTimeout (2 s). None waits longer.
			deadline := time.Now().Add(15 * time.Second)
			for {
				took, err := publish(300 * time.Millisecond)
				if took > 4*time.Second {
					t.Fatalf("a publish on the stalled link took %v with a 300ms deadline (err %v)", took, err)
				}
				if errors.Is(err, transport.ErrUnavailable) && took < 50*time.Millisecond {
					break // the driver knows: calls fail fast now
				}
				if time.Now().After(deadline) {
					t.Fatalf("publishes still wait on the stalled link after 15 s (last: %v after %v)", err, took)
				}
			}
			start := time.Now()
			var slowest time.Duration
			for i := 0; i < 1000; i++ {
				took, err := publish(time.Second)
				if !errors.Is(err, transport.ErrUnavailable) {
					t.Fatalf("publish %d on the stalled link: %v", i, err)
				}
				slowest = max(slowest, took)
			}
			if d := time.Since(start); d > time.Second {
				t.Fatalf("1000 publishes on the stalled link took %v (slowest %v)", d, slowest)
			}
		})
	}
}
