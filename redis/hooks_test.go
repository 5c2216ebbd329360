package redis_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// publishHook counts the PUBLISH commands go-redis hooks see, one by one or
// in pipelines, and those that failed.
type publishHook struct {
	channel          string
	published, fails atomic.Int64
}

func (h *publishHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *publishHook) see(cmd goredis.Cmder) {
	args := cmd.Args()
	if len(args) == 3 && strings.HasSuffix(strings.ToLower(cmd.Name()), "publish") && args[1] == h.channel {
		h.published.Add(1)
		if cmd.Err() != nil {
			h.fails.Add(1)
		}
	}
}

func (h *publishHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		cmd.SetErr(err)
		h.see(cmd)
		return err
	}
}

func (h *publishHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			h.see(c)
		}
		return err
	}
}

// publishMany publishes n messages to ch from 64 goroutines, then one more
// on its own, and fails the test on any error.
func publishMany(t *testing.T, tr *redis.Transport, ch string, n int) {
	t.Helper()
	var wg sync.WaitGroup
	var left atomic.Int64
	left.Store(int64(n))
	for range 64 {
		wg.Go(func() {
			for left.Add(-1) >= 0 {
				if err := tr.Publish(ctx5(t), transport.Message{Channel: ch, Payload: benchPayload}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := tr.Publish(ctx5(t), transport.Message{Channel: ch, Payload: []byte("last")}); err != nil {
		t.Fatal(err)
	}
}

// TestHooksSeeEveryPublish: hooks added to the client of a Transport (after
// Open, or before New) see each PUBLISH once, though Publish streams on the
// driver's own connections, and the messages arrive.
func TestHooksSeeEveryPublish(t *testing.T) {
	url := brokertest.StartMiniredis(t).URL()
	const n = 2000
	check := func(t *testing.T, tr *redis.Transport, ch string, hooks ...*publishHook) {
		sub, err := tr.Subscribe(ctx5(t), ch)
		if err != nil {
			t.Fatal(err)
		}
		defer sub.Close()
		publishMany(t, tr, ch, n)
		for range n + 1 {
			next(t, sub)
		}
		for i, h := range hooks {
			if got := h.published.Load(); got != n+1 || h.fails.Load() != 0 {
				t.Errorf("hook %d saw %d PUBLISH commands (%d failed), want %d, none failed", i, got, h.fails.Load(), n+1)
			}
		}
	}
	t.Run("Open", func(t *testing.T) {
		tr := open(t, url)
		ch := chanName("hooks")
		// Publish before any hook: the fast path.
		if err := tr.Publish(ctx5(t), transport.Message{Channel: ch, Payload: []byte("before")}); err != nil {
			t.Fatal(err)
		}
		h1, h2 := &publishHook{channel: ch}, &publishHook{channel: ch}
		tr.Client().AddHook(h1)
		tr.Client().AddHook(h2) // a second one: the tap moves inside it too
		check(t, tr, ch, h1, h2)
	})
	t.Run("New", func(t *testing.T) {
		opts, err := goredis.ParseURL(url)
		if err != nil {
			t.Fatal(err)
		}
		client := goredis.NewClient(opts)
		defer client.Close()
		ch := chanName("hooks")
		h := &publishHook{channel: ch}
		client.AddHook(h) // before New: go-redis does not show it
		tr, err := redis.New(client)
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		check(t, tr, ch, h)
	})
}

// TestHooksSeeFailures: a PUBLISH that Redis refuses reaches the hooks with
// its error.
func TestHooksSeeFailures(t *testing.T) {
	m := brokertest.StartMiniredis(t)
	tr := open(t, m.URL())
	ch := chanName("hooks")
	h := &publishHook{channel: ch}
	tr.Client().AddHook(h)
	m.Server().SetError("LOADING Redis is loading the dataset in memory")
	err := tr.Publish(ctx5(t), transport.Message{Channel: ch, Payload: []byte("x")})
	m.Server().SetError("")
	if err == nil {
		t.Fatal("Publish succeeded while Redis refused every command")
	}
	if h.published.Load() != 1 || h.fails.Load() != 1 {
		t.Fatalf("hook saw %d PUBLISH, %d failed; want 1 failed (Publish: %v)", h.published.Load(), h.fails.Load(), err)
	}
}
