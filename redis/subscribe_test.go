package redis_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// A pattern subscription (the CodeWorm dashboard's codeworm:*) gets the
// messages of every matching channel, each with its real channel name.
func TestSubscribePattern(t *testing.T) {
	for name, url := range brokers(t) {
		t.Run(name, func(t *testing.T) {
			tr := open(t, url)
			prefix := chanName("cw")
			sub, err := tr.SubscribePattern(ctx5(t), prefix+":*")
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			chans := []string{prefix + ":logs", prefix + ":events", prefix + ":stats"}
			for _, ch := range append(chans, "elsewhere:"+prefix) {
				if err := tr.Publish(ctx5(t), transport.Message{Channel: ch, Payload: []byte(ch)}); err != nil {
					t.Fatal(err)
				}
			}
			for _, want := range chans {
				m := next(t, sub)
				if m.Channel != want || string(m.Payload) != want {
					t.Fatalf("got %q on %q, want %q", m.Payload, m.Channel, want)
				}
			}
			if _, err := tr.SubscribePattern(ctx5(t)); !errors.Is(err, transport.ErrInvalidChannel) {
				t.Fatalf("SubscribePattern with no pattern: %v", err)
			}
		})
	}
}

// Closing the Transport ends its subscriptions; Next then returns ErrClosed.
func TestCloseEndsSubscriptions(t *testing.T) {
	tr := open(t, brokertest.StartMiniredis(t).URL())
	a, err := tr.Subscribe(ctx5(t), "a", "b", "a")
	if err != nil {
		t.Fatal(err)
	}
	p, err := tr.SubscribePattern(ctx5(t), "a*")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, s := range []transport.Subscription{a, p} {
		wg.Go(func() {
			if _, err := s.Next(context.Background()); !errors.Is(err, transport.ErrClosed) {
				t.Errorf("Next on a closed transport: %v", err)
			}
		})
	}
	_ = tr.Close()
	wg.Wait()
	if _, err := tr.Subscribe(ctx5(t), "a"); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
}

// Concurrent Publish calls are sent in shared pipelines: on the driver's
// own connections for a plain client, through go-redis pipelines for a
// client that must run its OnConnect hook on every connection.
func TestPublishesAreCoalesced(t *testing.T) {
	const G, N = 16, 100
	publishAll := func(t *testing.T, tr *redis.Transport) {
		var wg sync.WaitGroup
		for range G {
			wg.Go(func() {
				for range N {
					if err := tr.Publish(context.Background(), transport.Message{Channel: "c", Payload: []byte("x")}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
	}
	t.Run("own connections", func(t *testing.T) {
		m := brokertest.StartMiniredis(t)
		var writes, piped, dials atomic.Int64
		client := goredis.NewClient(&goredis.Options{Addr: m.Addr(),
			Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
				dials.Add(1)
				var d net.Dialer
				c, err := d.DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return countingConn{c, &writes, &piped}, nil
			}})
		defer client.Close()
		tr, err := redis.New(client, redis.WithPipelineConns(1))
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		publishAll(t, tr)
		if dials.Load() == 0 {
			t.Error("no connection was dialled through the client's Dialer")
		}
		// Writes that carry several publishes are the point.
		if piped.Load() == 0 {
			t.Fatalf("no write carried more than one of %d publishes (%d writes)", G*N, writes.Load())
		}
		t.Logf("%d publishes in %d writes, %d of them with several", G*N, writes.Load(), piped.Load())
	})
	t.Run("go-redis pipelines", func(t *testing.T) {
		m := brokertest.StartMiniredis(t)
		var connects atomic.Int64
		client := goredis.NewClient(&goredis.Options{Addr: m.Addr(),
			OnConnect: func(context.Context, *goredis.Conn) error { connects.Add(1); return nil }})
		defer client.Close()
		var pipelines, piped atomic.Int64
		client.AddHook(countHook{&pipelines, &piped})
		tr, err := redis.New(client, redis.WithPipelineConns(1))
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		publishAll(t, tr)
		// With one lane, whoever finds it busy queues; the queue goes out
		// as a pipeline.
		if piped.Load() == 0 || pipelines.Load() == 0 {
			t.Fatalf("no pipelined publishes among %d calls", G*N)
		}
		if connects.Load() == 0 {
			t.Fatal("the OnConnect hook never ran")
		}
		t.Logf("%d of %d publishes went in %d pipelines", piped.Load(), G*N, pipelines.Load())
	})
}

// countingConn counts Write calls, and those that carry more than one
// PUBLISH.
type countingConn struct {
	net.Conn
	writes, piped *atomic.Int64
}

func (c countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	if bytes.Count(b, []byte("PUBLISH")) > 1 {
		c.piped.Add(1)
	}
	return c.Conn.Write(b)
}

type countHook struct{ pipelines, cmds *atomic.Int64 }

func (countHook) DialHook(next goredis.DialHook) goredis.DialHook          { return next }
func (countHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook { return next }
func (h countHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.pipelines.Add(1)
		h.cmds.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}
