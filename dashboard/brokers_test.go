package dashboard

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/internal/brokertest"
	_ "github.com/eventpub/eventpub/nats"
	_ "github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

// brokerURLs names the brokers the relay is tested on besides memory: the
// embedded NATS server and miniredis always, the real servers when
// EVENTPUB_NATS_URL / EVENTPUB_REDIS_URL are set.
func brokerURLs(t *testing.T) map[string]string {
	urls := map[string]string{
		"nats-embedded":  brokertest.StartNATS(t).URL(),
		"redis-embedded": brokertest.StartMiniredis(t).URL(),
	}
	if u := brokertest.RealNATSURL(); u != "" {
		urls["nats-real"] = u
	}
	if u := brokertest.RealRedisURL(); u != "" {
		urls["redis-real"] = u
	}
	return urls
}

// The relay speaks the same protocol over NATS and Redis: live frames in
// publish order, then the history for a client that joins later.
func TestRelayOverBrokers(t *testing.T) {
	for name, url := range brokerURLs(t) {
		t.Run(name, func(t *testing.T) {
			ns := "cw" + brokertest.Unique() // shared real servers
			h := startRelay(t, brokertest.Open(t, url), WithNamespace(ns))
			c := h.dial(t, "/ws", nil)
			pubT := brokertest.Open(t, url)
			clock := func() time.Time { return time.Date(2026, 2, 19, 13, 29, 0, 0, time.Local) }
			pub := eventpub.New(pubT, eventpub.WithNamespace(ns), eventpub.WithClock(clock), eventpub.WithKeepOpen())
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			must := func(err error) {
				if err != nil {
					t.Fatal(err)
				}
			}
			must(pub.PublishEvent(ctx, "analyzing", map[string]any{"target": "codeworm/daemon.py", "repo": "CodeWorm"}))
			must(pub.PublishLog(ctx, map[string]any{"event": "analysis done", "level": "info", "score": 0.75}))
			must(pub.PublishStats(ctx, map[string]any{"total_cycles": 3}))
			must(pub.Publish(ctx, ns+":logs", []byte(`{"z":1,"a":1.50,"z":2}`)))
			want := []string{
				frame(ns+":events", `{"type":"analyzing","timestamp":"2026-02-19T13:29:00","data":{"repo":"CodeWorm","target":"codeworm/daemon.py"}}`),
				frame(ns+":logs", `{"event":"analysis done","level":"info","score":0.75}`),
				frame(ns+":stats", `{"timestamp":"2026-02-19T13:29:00","total_cycles":3}`),
				frame(ns+":logs", `{"z":2,"a":1.5}`),
			}
			// Order holds within a channel; a broker may interleave channels
			// (NATS delivers each subject on its own).
			var got, kept []string
			for range want {
				f := c.next()
				got = append(got, f)
				if !strings.Contains(f, `:stats"`) {
					kept = append(kept, f)
				}
			}
			for _, ch := range []string{ns + ":events", ns + ":logs", ns + ":stats"} {
				if g, w := onChannel(got, ch), onChannel(want, ch); strings.Join(g, "\n") != strings.Join(w, "\n") {
					t.Fatalf("frames on %s:\n got %s\nwant %s", ch, g, w)
				}
			}
			late := h.dial(t, "/api/ws", nil)
			hist := fmt.Sprintf(`{"channel":"%s:history","data":[%s]}`, ns, strings.Join(kept, ","))
			if got := late.next(); got != hist {
				t.Fatalf("history:\n got %s\nwant %s", got, hist)
			}
		})
	}
}

// onChannel returns the frames of channel, in order.
func onChannel(frames []string, channel string) []string {
	var out []string
	for _, f := range frames {
		if strings.HasPrefix(f, `{"channel":"`+channel+`"`) {
			out = append(out, f)
		}
	}
	return out
}

// When the NATS server goes away and comes back, clients are told both,
// and messages flow again on the renewed link.
func TestLinkStateOverNATS(t *testing.T) {
	srv := brokertest.StartNATS(t)
	h := startRelay(t, brokertest.Open(t, srv.URL()), WithLinkCheck(50*time.Millisecond))
	c := h.dial(t, "/ws", nil)
	waitFor(t, "the link to be up", func() bool { return h.relay.Stats().BrokerUp })
	if f := c.raw(); f != `{"type":"broker","state":"up"}` {
		t.Fatalf("first frame %s", f)
	}
	srv.Stop()
	if f := c.raw(); f != `{"type":"broker","state":"down"}` {
		t.Fatalf("after the server stopped: %s", f)
	}
	srv.Start()
	if f := c.raw(); f != `{"type":"broker","state":"up"}` {
		t.Fatalf("after the server came back: %s", f)
	}
	pub := brokertest.Open(t, srv.URL())
	// The relay's subscription is renewed by the driver; publish until a
	// frame arrives.
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				_ = pub.Publish(ctx, transport.Message{Channel: "codeworm:logs", Payload: []byte(`{"event":"back"}`)})
				cancel()
			}
		}
	}()
	if f := c.next(); f != frame("codeworm:logs", `{"event":"back"}`) {
		t.Fatalf("after the outage: %s", f)
	}
}
