package redis

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/eventpub/eventpub/transport"
)

func openMini(t *testing.T, opts ...Option) (*Transport, *miniredis.Miniredis) {
	t.Helper()
	m := miniredis.RunT(t)
	tr, err := Open(context.Background(), "redis://"+m.Addr()+"/0", opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr, m
}

// openMiniPipeliner is openMini with Publish going through go-redis
// pipelines, as for a cluster client.
func openMiniPipeliner(t *testing.T, opts ...Option) (*Transport, *miniredis.Miniredis) {
	tr, m := openMini(t, opts...)
	if tr.cp == nil {
		t.Fatal("Open on a standalone URL did not set up the publish connections")
	}
	tr.cp = nil
	return tr, m
}

func queued(l *lane) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}

func waitQueued(t *testing.T, l *lane, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); queued(l) != n; {
		if time.Now().After(deadline) {
			t.Fatalf("queue has %d requests, want %d", queued(l), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// A queued caller whose context ends is withdrawn before it is sent.
func TestQueuedCallerWithdrawsOnContext(t *testing.T) {
	tr, _ := openMiniPipeliner(t, WithPipelineConns(1))
	l := &tr.pipe.lanes[0]
	l.busy = true // a flush is "in progress"
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := tr.Publish(ctx, transport.Message{Channel: "c", Payload: []byte("x")})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("queued publish with an expired context: %v", err)
	}
	if n := queued(l); n != 0 {
		t.Fatalf("withdrawn request still queued (%d)", n)
	}
}

// When a flush ends, the first queued caller becomes the flusher and sends
// the whole queue; a flusher-to-be whose context ended passes the lead on.
func TestHandOff(t *testing.T) {
	tr, m := openMiniPipeliner(t, WithPipelineConns(1))
	l := &tr.pipe.lanes[0]
	l.mu.Lock()
	l.busy = true
	l.mu.Unlock()
	actx, cancelA := context.WithCancel(context.Background())
	errs := make(chan error, 3)
	publish := func(ctx context.Context, p string) {
		errs <- tr.Publish(ctx, transport.Message{Channel: "c", Payload: []byte(p)})
	}
	go publish(actx, "a")
	waitQueued(t, l, 1)
	go publish(context.Background(), "b")
	waitQueued(t, l, 2)
	go publish(context.Background(), "c")
	waitQueued(t, l, 3)
	cancelA()
	// A either withdraws (passing the lead on) or sees the lead first.
	time.Sleep(10 * time.Millisecond)
	l.mu.Lock()
	tr.pipe.handOffLocked(l)
	l.mu.Unlock()
	var ok, cancelled int
	for range 3 {
		select {
		case err := <-errs:
			switch {
			case err == nil:
				ok++
			case errors.Is(err, context.Canceled):
				cancelled++
			default:
				t.Fatalf("publish: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a queued publish never returned: the lead was lost")
		}
	}
	if ok < 2 || ok+cancelled != 3 {
		t.Fatalf("%d sent, %d cancelled", ok, cancelled)
	}
	if got := m.CommandCount(); got == 0 {
		t.Fatal("nothing reached the server")
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.busy || len(l.queue) != 0 {
		t.Fatalf("lane left busy=%v with %d queued", l.busy, len(l.queue))
	}
}

func TestSlot(t *testing.T) {
	// Values from the Redis Cluster specification's examples.
	cases := map[string]int{"123456789": 12739, "foo": 12182, "{user1000}.following": slot("user1000"), "a{}b": slot("a{}b")}
	for k, want := range cases {
		if got := slot(k); got != want {
			t.Errorf("slot(%q) = %d, want %d", k, got, want)
		}
	}
	if slot("{user1000}.following") != slot("{user1000}.followers") {
		t.Error("hash tags are ignored")
	}
}
