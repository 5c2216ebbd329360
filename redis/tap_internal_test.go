package redis

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

type passHook struct{}

func (passHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (passHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error { return next(ctx, cmd) }
}
func (passHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return next
}

// TestTapFastPathUntilAHook: a Transport Open made publishes without the
// hook chain (and keeps its first tap) through publishes, subscriptions,
// pings and go-redis's own chain rebuilds (a Tx, a Conn); a hook added
// later switches it to the chain with a fresh tap innermost.
func TestTapFastPathUntilAHook(t *testing.T) {
	tr, err := Open(context.Background(), brokertest.StartMiniredis(t).URL())
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	ctx := context.Background()
	first := tr.taps.cur.Load()
	sub, err := tr.Subscribe(ctx, "x")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	c := tr.client.(*goredis.Client)
	_, _ = c.TxPipelined(ctx, func(p goredis.Pipeliner) error { p.Ping(ctx); return nil })
	conn := c.Conn()
	_ = conn.Close()
	for range 100 {
		if err := tr.Publish(ctx, transport.Message{Channel: "x", Payload: []byte("y")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if tr.taps.hooked.Load() || tr.taps.cur.Load() != first || !first.inner.Load() {
		t.Fatalf("no hook was added, yet hooked=%v, same tap %v, inner %v", tr.taps.hooked.Load(), tr.taps.cur.Load() == first, first.inner.Load())
	}
	c.AddHook(passHook{})
	if first.inner.Load() {
		t.Fatal("a hook added after the tap left it innermost")
	}
	if err := tr.Publish(ctx, transport.Message{Channel: "x", Payload: []byte("y")}); err != nil {
		t.Fatal(err)
	}
	if h := tr.taps.cur.Load(); !tr.taps.hooked.Load() || h == first || !h.inner.Load() {
		t.Fatalf("after AddHook: hooked=%v, new tap %v, inner %v", tr.taps.hooked.Load(), h != first, h.inner.Load())
	}
}
