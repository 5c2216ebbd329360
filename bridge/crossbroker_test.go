package bridge_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/bridge"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
)

// testPayloads are the bytes a relay must carry exactly: every byte value,
// invalid UTF-8, nothing at all, a large random block and a CodeWorm event
// envelope as the Publisher encodes it.
func testPayloads(t *testing.T) [][]byte {
	every := make([]byte, 256)
	for i := range every {
		every[i] = byte(i)
	}
	large := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(7, 11))
	for i := range large {
		large[i] = byte(r.Uint32())
	}
	return [][]byte{every, []byte("\xff\xfe\xc3\x28 not UTF-8 \x80"), {}, large, codeWormEvent(t)}
}

// codeWormEvent returns the bytes eventpub's Publisher sends for one event.
func codeWormEvent(t *testing.T) []byte {
	m := memory.New()
	rec := memory.NewRecorder(m)
	defer rec.Close()
	clock := func() time.Time { return time.Date(2024, 5, 1, 12, 0, 0, 500000000, time.Local) }
	p := eventpub.New(m, eventpub.WithClock(clock))
	defer p.Close(context.Background())
	data := map[string]any{"repo": "ü/€", "ok": true, "n": 1.5, "tags": []any{"a", nil}, "ctl": "\x01\u2028"}
	if err := p.PublishEvent(ctxT(t), "deploy", data); err != nil {
		t.Fatal(err)
	}
	msgs := rec.Messages("")
	if len(msgs) != 1 {
		t.Fatalf("the publisher sent %d messages, want 1", len(msgs))
	}
	return msgs[0].Payload
}

// TestRelayExactBytes relays Redis → NATS and NATS → Redis and checks every
// payload arrives byte for byte, in order, on its own channel.
func TestRelayExactBytes(t *testing.T) {
	payloads := testPayloads(t)
	for _, b := range brokertest.Pairs(t) {
		t.Run(b.Name, func(t *testing.T) {
			cases := []struct {
				name           string
				srcURL, dstURL string
				patterns       bool
			}{
				{"RedisToNATS", b.RedisURL, b.NATSURL, false},
				{"RedisPatternToNATS", b.RedisURL, b.NATSURL, true},
				{"NATSToRedis", b.NATSURL, b.RedisURL, false},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					ns := "eventpub-bridge-" + brokertest.Unique()
					chans := []string{ns + ":logs", ns + ":events"}
					from, to := brokertest.Open(t, c.srcURL), brokertest.Open(t, c.dstURL)
					publisher := brokertest.Open(t, c.srcURL)
					got := brokertest.Collect(t, brokertest.Open(t, c.dstURL), chans...)
					var opts []bridge.Option
					names := chans
					if c.patterns {
						opts = append(opts, bridge.WithPatterns())
						names = []string{ns + ":*"}
					}
					br := start(t, from, to, names, opts...)

					var want []transport.Message
					for i, p := range payloads {
						m := transport.Message{Channel: chans[i%2], Payload: p}
						if err := publisher.Publish(ctxT(t), m); err != nil {
							t.Fatalf("publishing payload %d on the source: %v", i, err)
						}
						want = append(want, m)
					}
					// Order is kept per channel (the transport contract); the
					// two channels may interleave differently.
					msgs := got.Wait(t, "target subscriber", len(want))
					for _, ch := range chans {
						g, w := onChannel(msgs, ch), onChannel(want, ch)
						if len(g) != len(w) {
							t.Fatalf("%q: got %d messages, want %d", ch, len(g), len(w))
						}
						for i := range w {
							if !bytes.Equal(g[i], w[i]) {
								t.Errorf("%q message %d: got %d bytes, want %d; the bytes differ", ch, i, len(g[i]), len(w[i]))
							}
						}
					}
					if err := br.Stop(ctxT(t)); err != nil {
						t.Fatal(err)
					}
					st := br.Stats()
					if st.Received != uint64(len(want)) || st.Relayed != st.Received {
						t.Errorf("Stats = %+v, want %d received and relayed", st, len(want))
					}
					checkSum(t, st)
				})
			}
		})
	}
}

// onChannel returns the payloads of msgs on channel, in order.
func onChannel(msgs []transport.Message, channel string) [][]byte {
	var out [][]byte
	for _, m := range msgs {
		if m.Channel == channel {
			out = append(out, m.Payload)
		}
	}
	return out
}

// TestRelayNATSOutage: the relay's target, NATS JetStream, is down while
// events arrive from Redis; once it is back the relay catches up and the
// stream holds every event, in order. It runs with the target's
// PublishBatch and with Publish alone.
func TestRelayNATSOutage(t *testing.T) {
	t.Run("Publish", func(t *testing.T) { testRelayNATSOutage(t, false) })
	t.Run("PublishBatch", func(t *testing.T) { testRelayNATSOutage(t, true) })
}

func testRelayNATSOutage(t *testing.T, batched bool) {
	mini := brokertest.StartMiniredis(t)
	srv := brokertest.StartNATS(t)
	channel := "eventpub-bridge-" + brokertest.Unique() + ":events"
	js := nats.WithJetStream(nats.JetStreamConfig{Stream: "BRIDGE_" + brokertest.Unique(), Start: nats.StartAll})
	from, publisher := brokertest.Open(t, mini.URL()), brokertest.Open(t, mini.URL())
	to := openNATS(t, srv.URL(), js)
	var target transport.Transport = plain{to}
	if batched {
		// The bridge cannot do better than the driver: check the driver's
		// batch path on a healthy server first.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		probe := channel + ".probe"
		err := to.PublishBatch(ctx, []transport.Message{{Channel: probe, Payload: []byte("1")}, {Channel: probe, Payload: []byte("2")}, {Channel: probe, Payload: []byte("3")}})
		cancel()
		if err != nil {
			t.Skipf("the nats driver's JetStream PublishBatch fails on a healthy server (%v); the bridge's batch path cannot be tested against it", err)
		}
		target = to
	}
	var mu sync.Mutex
	var lastErr error
	br := start(t, from, target, []string{channel}, bridge.WithErrorHandler(func(err error) {
		mu.Lock()
		lastErr = err
		mu.Unlock()
	}))
	lastError := func() error {
		mu.Lock()
		defer mu.Unlock()
		return lastErr
	}
	detail := func() string { return fmt.Sprintf("stats %+v, last error: %v", br.Stats(), lastError()) }

	send := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if err := publisher.Publish(ctxT(t), transport.Message{Channel: channel, Payload: fmt.Appendf(nil, "m%d", i)}); err != nil {
				t.Fatal(err)
			}
		}
	}
	send(0, 10) // creates the stream
	waitFor(t, "the first events to be relayed", func() bool { return br.Stats().Relayed == 10 }, detail)
	srv.Stop()
	send(10, 300)
	waitFor(t, "the relay to receive every event", func() bool { return br.Stats().Received == 300 }, detail)
	if st := br.Stats(); st.Relayed == 300 || st.Dropped != 0 {
		t.Fatalf("Stats while NATS is down = %+v, want events queued", st)
	}
	srv.Start()
	waitFor(t, "the relay to catch up", func() bool { return br.Stats().Relayed == 300 }, detail)
	st := br.Stats()
	if st.Dropped != 0 || st.Failed != 0 || st.Queued != 0 {
		t.Errorf("Stats after catching up = %+v", st)
	}
	checkSum(t, st)

	reader := openNATS(t, srv.URL(), js)
	got := brokertest.Collect(t, reader, channel).Wait(t, "stream replay", 300)
	for i, m := range got {
		if want := fmt.Sprintf("m%d", i); string(m.Payload) != want {
			t.Fatalf("stream message %d is %q, want %q: lost, repeated or reordered", i, m.Payload, want)
		}
	}
}
