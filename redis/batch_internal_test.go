package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

func ctx10(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// PublishBatch streams on the publish connections: in order, each
// message with its own reply (one refused does not fail the others), and
// concurrent Publish calls on the same connection keep their own replies.
func TestConnPipeBatch(t *testing.T) {
	addr, seen := fakeServer(t, func(ch string) string {
		if strings.HasPrefix(ch, "refused") {
			return "-NOPERM no permissions to access the '" + ch + "' channel\r\n"
		}
		return ":1\r\n"
	})
	tr := openFake(t, addr, WithMaxPipeline(7)) // a batch spans several writes
	if tr.mayBeHooked() {
		t.Fatal("a client Open made with no hook added counts as hooked")
	}
	var msgs []transport.Message
	var want []string
	for i := range 40 {
		ch := fmt.Sprintf("b%d", i)
		if i == 25 {
			ch = "refused25"
		}
		msgs = append(msgs, msg(ch))
		want = append(want, ch)
	}
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			if err := tr.Publish(ctx10(t), msg(fmt.Sprintf("p%d", i))); err != nil {
				t.Errorf("Publish beside a batch: %v", err)
			}
		})
	}
	err := tr.PublishBatch(ctx10(t), msgs)
	wg.Wait()
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 25 || len(be.Results) != 40 {
		t.Fatalf("PublishBatch = %v, want a BatchError with Sent 25 and 40 results", err)
	}
	for i, r := range be.Results {
		if (r != nil) != (i == 25) {
			t.Errorf("result %d: %v", i, r)
		}
	}
	if !errors.Is(be.Err, transport.ErrAuth) || !strings.Contains(be.Err.Error(), `"refused25"`) {
		t.Errorf("the refused message's error %v, want ErrAuth naming its channel", be.Err)
	}
	var got []string
	for _, ch := range seen() {
		if !strings.HasPrefix(ch, "p") {
			got = append(got, ch)
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("the server got the batch as %v, want %v", got, want)
	}
	if err := tr.PublishBatch(ctx10(t), msgs[:3]); err != nil {
		t.Fatalf("PublishBatch after a refusal: %v", err)
	}
}

// A batch whose deadline passes while it is in flight, with no reply on
// the connection, marks Redis down as a lone Publish does; each message's
// result is an error.
func TestConnPipeBatchStallMarksDown(t *testing.T) {
	addr, _ := fakeServer(t, func(string) string { return "" })
	tr := openFake(t, addr, WithReadTimeout(time.Minute), WithBackoff(time.Hour, time.Hour))
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := tr.PublishBatch(ctx, []transport.Message{msg("a"), msg("b"), msg("c")})
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 0 || len(be.Results) != 3 {
		t.Fatalf("PublishBatch on a stalled link = %v, want a BatchError with Sent 0 and 3 results", err)
	}
	for i, r := range be.Results {
		if !errors.Is(r, context.DeadlineExceeded) {
			t.Errorf("result %d: %v, want the deadline", i, r)
		}
	}
	if err := tr.downErr(); err == nil || !strings.Contains(err.Error(), errStalled.Error()) {
		t.Fatalf("after a batch's deadline passed on a stalled link: down state %v, want %q", err, errStalled)
	}
	if err := tr.PublishBatch(ctx10(t), []transport.Message{msg("a"), msg("b")}); !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("PublishBatch after the stall: %v, want fail-fast ErrUnavailable", err)
	}
}

// A batch whose context is cancelled before it is written is withdrawn:
// nothing of it reaches the server, and Redis is not marked down.
func TestConnPipeBatchWithdrawn(t *testing.T) {
	addr, seen := fakeServer(t, func(string) string { return ":0\r\n" })
	tr := openFake(t, addr)
	if err := tr.Publish(context.Background(), msg("first")); err != nil {
		t.Fatal(err)
	}
	// Hold every write back (as TestConnPipeWithdrawsQueued does).
	pc := &tr.cp.conns[0]
	brokertest.WaitFor(t, 10*time.Second, "the publish connection to go idle", func() bool {
		pc.mu.Lock()
		defer pc.mu.Unlock()
		if c := pc.cur; c != nil && !c.writing && !c.delivering && c.inflight.n == 0 {
			c.writing = true
			return true
		}
		return false
	})
	ctx, cancel := context.WithCancel(context.Background())
	stop := time.AfterFunc(100*time.Millisecond, cancel)
	defer stop.Stop()
	err := tr.PublishBatch(ctx, []transport.Message{msg("x"), msg("y")})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("PublishBatch: %v, want context.Canceled", err)
	}
	pc.mu.Lock()
	queued := len(pc.queue)
	pc.cur.writing = false
	pc.mu.Unlock()
	if queued != 0 {
		t.Fatalf("%d requests of the withdrawn batch still queued", queued)
	}
	if err := tr.downErr(); err != nil {
		t.Fatalf("a cancelled batch marked Redis down: %v", err)
	}
	if err := tr.Publish(ctx10(t), msg("last")); err != nil {
		t.Fatal(err)
	}
	if got := seen(); !slices.Equal(got, []string{"first", "last"}) {
		t.Fatalf("the server got %v, want only first and last", got)
	}
}

// Several batches started before any is waited for go out in the order
// they were started, each with its own results.
func TestConnPipeBatchesInFlight(t *testing.T) {
	addr, seen := fakeServer(t, func(ch string) string {
		if ch == "b1-2" {
			return "-ERR refused\r\n"
		}
		return ":0\r\n"
	})
	tr := openFake(t, addr)
	var started []*pbatch
	var want []string
	for b := range 3 {
		var msgs []transport.Message
		for i := range 5 {
			ch := fmt.Sprintf("b%d-%d", b, i)
			msgs = append(msgs, msg(ch))
			want = append(want, ch)
		}
		started = append(started, tr.cp.startBatch(msgs))
	}
	for b, pb := range started {
		results := pb.wait(ctx10(t))
		if b != 1 {
			if results != nil {
				t.Errorf("batch %d: results %v, want all published", b, results)
			}
			continue
		}
		if len(results) != 5 || results[2] == nil || slices.ContainsFunc(slices.Delete(slices.Clone(results), 2, 3), func(err error) bool { return err != nil }) {
			t.Errorf("batch 1: results %v, want only the third refused", results)
		}
	}
	if got := seen(); !slices.Equal(got, want) {
		t.Fatalf("the server got %v, want %v", got, want)
	}
}

// checkBatch gives what refuseAlone with check gives, message by message:
// a run of one channel is checked once, yet an invalid channel, an
// oversized payload, a closed transport, a done context and Redis marked
// down are each told as before.
func TestCheckBatchIsRefuseAlone(t *testing.T) {
	c := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:1"}) // never dialled
	t.Cleanup(func() { _ = c.Close() })
	tr, err := New(c, WithMaxPayload(4))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	m := func(ch, p string) transport.Message { return transport.Message{Channel: ch, Payload: []byte(p)} }
	batches := [][]transport.Message{
		{m("a", "1"), m("a", "2"), m("b", "3")},
		{m("a", "1"), m("", "2"), m("a", "3"), m("a\x01", "4"), m("a\x01", "5"), m("a", "6")},
		{m("a", "12345"), m("a", "1"), m("b", "123456")},
		{m("", "1")},
		{m("a", "123456")},
	}
	same := func(what string, ctx context.Context) {
		t.Helper()
		for k, msgs := range batches {
			wantRef, wantErr := refuseAlone(ctx, msgs, tr.check)
			gotRef, gotErr := tr.checkBatch(ctx, msgs)
			if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || len(gotRef) != len(wantRef) {
				t.Fatalf("%s, batch %d: checkBatch = %v, %v; refuseAlone = %v, %v", what, k, gotRef, gotErr, wantRef, wantErr)
			}
			for i := range gotRef {
				if fmt.Sprint(gotRef[i]) != fmt.Sprint(wantRef[i]) {
					t.Fatalf("%s, batch %d, message %d: checkBatch %v, refuseAlone %v", what, k, i, gotRef[i], wantRef[i])
				}
			}
		}
	}
	same("up", context.Background())
	done, cancel := context.WithCancel(context.Background())
	cancel()
	same("done context", done)
	tr.markDown(errors.New("link cut"))
	same("down", context.Background())
	_ = tr.Close()
	same("closed", context.Background())
}
