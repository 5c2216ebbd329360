package redis_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/sendq"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// brokers returns the URLs to test against: miniredis always, the real
// Redis when EVENTPUB_REDIS_URL is set.
func brokers(t *testing.T) map[string]string {
	m := map[string]string{"miniredis": brokertest.StartMiniredis(t).URL()}
	if u := brokertest.RealRedisURL(); u != "" {
		m["real"] = u
	}
	return m
}

// A plain go-redis subscriber (the CodeWorm dashboard's view) receives the
// payload bytes exactly as published, with nothing added.
func TestPublishRawBytesReachPlainSubscriber(t *testing.T) {
	for name, url := range brokers(t) {
		t.Run(name, func(t *testing.T) {
			opts, err := goredis.ParseURL(url)
			if err != nil {
				t.Fatal(err)
			}
			plain := goredis.NewClient(opts)
			defer plain.Close()
			ctx := ctx5(t)
			ps := plain.PSubscribe(ctx, "codeworm-test:*")
			defer ps.Close()
			if _, err := ps.Receive(ctx); err != nil {
				t.Fatal(err)
			}
			tr := open(t, url)
			ch := chanName("codeworm-test")
			payloads := [][]byte{
				[]byte(`{"type":"commit","timestamp":"2025-01-02T03:04:05.123456","data":{"repo":"x"}}`),
				{0x00, 0xff, 0xfe, '\n', 0x80},
				{},
			}
			for _, p := range payloads {
				buf := bytes.Clone(p)
				if err := tr.Publish(ctx, transport.Message{Channel: ch, Payload: buf, Header: map[string]string{"k": "v"}}); err != nil {
					t.Fatalf("Publish: %v", err)
				}
				clear(buf) // the driver must not keep the buffer
			}
			for _, want := range payloads {
				m, err := ps.ReceiveMessage(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if m.Channel != ch || m.Pattern != "codeworm-test:*" || m.Payload != string(want) {
					t.Fatalf("got %q on %q, want %q on %q", m.Payload, m.Channel, want, ch)
				}
			}
		})
	}
}

func TestPublishBatchInOrder(t *testing.T) {
	for name, url := range brokers(t) {
		t.Run(name, func(t *testing.T) {
			tr := open(t, url)
			ch := chanName("batch")
			sub, err := tr.Subscribe(ctx5(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			msgs := make([]transport.Message, 100)
			for i := range msgs {
				msgs[i] = transport.Message{Channel: ch, Payload: []byte{byte(i)}}
			}
			if err := tr.PublishBatch(ctx5(t), msgs); err != nil {
				t.Fatal(err)
			}
			for i := range msgs {
				if m := next(t, sub); m.Payload[0] != byte(i) {
					t.Fatalf("message %d has payload %d", i, m.Payload[0])
				}
			}
			bad := append(msgs[:2:2], transport.Message{Channel: ""})
			err = tr.PublishBatch(ctx5(t), bad)
			var be *transport.BatchError
			// The refused message does not stop the others: they are sent.
			if !errors.As(err, &be) || be.Sent != 2 || !errors.Is(err, transport.ErrInvalidChannel) ||
				len(be.Results) != 3 || be.Results[0] != nil || be.Results[1] != nil {
				t.Fatalf("batch with an empty channel: %v", err)
			}
			for i := range 2 {
				if m := next(t, sub); m.Payload[0] != byte(i) {
					t.Fatalf("message %d has payload %d", i, m.Payload[0])
				}
			}
		})
	}
}

// Many goroutines publishing at once each get their own result, and every
// message arrives.
func TestConcurrentPublishCoalesced(t *testing.T) {
	for name, url := range brokers(t) {
		t.Run(name, func(t *testing.T) {
			tr := open(t, url, redis.WithPipelineConns(2), redis.WithMaxPipeline(16))
			ch := chanName("conc")
			sub, err := tr.Subscribe(ctx5(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			const G, N = 32, 50
			var wg sync.WaitGroup
			errs := make(chan error, G*N)
			for g := range G {
				wg.Go(func() {
					for i := range N {
						if err := tr.Publish(context.Background(), transport.Message{Channel: ch, Payload: []byte{byte(g), byte(i)}}); err != nil {
							errs <- err
						}
					}
				})
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatalf("Publish: %v", err)
			}
			seen := map[[2]byte]bool{}
			last := make([]int, G)
			for i := range last {
				last[i] = -1
			}
			for range G * N {
				m := next(t, sub)
				k := [2]byte{m.Payload[0], m.Payload[1]}
				if seen[k] {
					t.Fatalf("duplicate %v", k)
				}
				seen[k] = true
				if int(k[1]) <= last[k[0]] {
					t.Fatalf("goroutine %d: message %d after %d", k[0], k[1], last[k[0]])
				}
				last[k[0]] = int(k[1])
			}
		})
	}
}

func TestPublishValidation(t *testing.T) {
	tr := open(t, brokertest.StartMiniredis(t).URL(), redis.WithMaxPayload(10))
	ctx := ctx5(t)
	if err := tr.Publish(ctx, transport.Message{Channel: "", Payload: nil}); !errors.Is(err, transport.ErrInvalidChannel) {
		t.Fatalf("empty channel: %v", err)
	}
	if err := tr.Publish(ctx, transport.Message{Channel: "c", Payload: make([]byte, 11)}); !errors.Is(err, transport.ErrPayloadTooLarge) {
		t.Fatalf("11 bytes over a 10 byte limit: %v", err)
	}
	if got := tr.Capabilities(); got.MaxPayload != 10 || got.Headers || got.Persistent || !got.Ordered {
		t.Fatalf("Capabilities = %+v", got)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := tr.Publish(cctx, transport.Message{Channel: "c"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled ctx: %v", err)
	}
	_ = tr.Close()
	if err := tr.Publish(ctx, transport.Message{Channel: "c"}); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	if err := tr.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// While Redis is down, the first Publish fails within the dial timeout and
// later ones fail at once; after Redis is back, publishing works again.
func TestFailFastWhileDown(t *testing.T) {
	m := brokertest.StartMiniredis(t)
	tr := open(t, m.URL(), redis.WithConnectTimeout(500*time.Millisecond))
	ctx := ctx5(t)
	if err := tr.Publish(ctx, transport.Message{Channel: "c", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	m.Stop()
	start := time.Now()
	err := tr.Publish(ctx, transport.Message{Channel: "c", Payload: []byte("x")})
	if !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("first publish while down: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("first failure took %v, dial timeout is 500ms", d)
	}
	start = time.Now()
	for range 1000 {
		if err := tr.Publish(ctx, transport.Message{Channel: "c", Payload: []byte("x")}); !errors.Is(err, transport.ErrUnavailable) {
			t.Fatalf("publish while down: %v", err)
		}
	}
	// 1000 calls that each waited for a dial would take far longer than this.
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("1000 publishes while down took %v", d)
	}
	m.Start()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := tr.Publish(ctx, transport.Message{Channel: "c", Payload: []byte("x")})
		if err == nil {
			break
		}
		if !errors.Is(err, transport.ErrUnavailable) || time.Now().After(deadline) {
			t.Fatalf("publish after restart: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A client the caller passes to New stays open after Close.
func TestCallerOwnedClientNotClosed(t *testing.T) {
	m := brokertest.StartMiniredis(t)
	client := goredis.NewClient(&goredis.Options{Addr: m.Addr()})
	defer client.Close()
	tr, err := redis.New(client)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctx5(t)
	if err := tr.Publish(ctx, transport.Message{Channel: "c", Payload: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Ping(ctx).Err(); err != nil {
		t.Fatalf("caller's client closed by the driver: %v", err)
	}
	if _, err := redis.New(nil); err == nil {
		t.Fatal("New(nil) succeeded")
	}
}

// Close does not wait for the background health check's timeouts.
func TestCloseWhileDownIsPrompt(t *testing.T) {
	tr, err := redis.Open(context.Background(), "redis://127.0.0.1:1/0", redis.WithBackoff(time.Millisecond, time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Publish(ctx5(t), transport.Message{Channel: "c"}); !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("publish to a closed port: %v", err)
	}
	time.Sleep(20 * time.Millisecond) // let the health check run a few rounds
	start := time.Now()
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	// Without cancellation Close could wait dial+read timeouts (4 s).
	if d := time.Since(start); d > 1500*time.Millisecond {
		t.Fatalf("Close took %v while Redis was down", d)
	}
}

// TestPreferredBatch: batches that stream on the publish connections are
// asked for 1024 at a time; in Streams mode the queue keeps its default.
func TestPreferredBatch(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = c.Close() })
	var _ sendq.BatchSizer = (*redis.Transport)(nil)
	for _, tc := range []struct {
		opts []redis.Option
		want int
	}{{nil, 1024}, {[]redis.Option{redis.WithStreams(redis.StreamsConfig{})}, 0}} {
		tr, err := redis.New(c, tc.opts...)
		if err != nil {
			t.Fatal(err)
		}
		if got := tr.PreferredBatch(); got != tc.want {
			t.Errorf("PreferredBatch = %d, want %d", got, tc.want)
		}
		_ = tr.Close()
	}
}
