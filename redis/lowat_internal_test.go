package redis

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
)

func TestWakeAfter(t *testing.T) {
	// minReply is the shortest line the reader accepts as a reply.
	if err := parseReply([]byte("+\r\n"[:minReply])); err != nil {
		t.Errorf("a reply of minReply (%d) bytes is refused: %v", minReply, err)
	}
	if err := parseReply([]byte("+\r\n"[1:])); err != errProtocol {
		t.Errorf("a line shorter than minReply is taken as a reply: %v", err)
	}
	for _, c := range []struct{ owed, want int }{
		{0, 1},
		{1, 1},
		{lowatFrom - 1, 1}, // a small batch, a single caller: wake at the first byte
		{lowatFrom, 128},   // 190 at least, down to a step
		{256, 704},         // 766
		{300, 896},         // 898
		{1366, lowatMax},   // 4096 exactly
		{5000, lowatMax},
	} {
		got := wakeAfter(c.owed)
		if got != c.want {
			t.Errorf("wakeAfter(%d) = %d, want %d", c.owed, got, c.want)
		}
		// The first reply incomplete (at least its '\n' to come) and each
		// other one whole, as short as replies get: never more than that.
		if least := 1 + (c.owed-1)*minReply; c.owed > 0 && got > max(1, least) {
			t.Errorf("wakeAfter(%d) = %d: more bytes than %d replies bring after a partial first one (%d)", c.owed, got, c.owed, least)
		}
	}
}

// trickleServer answers every PUBLISH with the shortest reply, "+\r\n",
// written piece bytes at a time with pause between writes, so that reads
// end inside a reply: the reader, waiting for many replies at once, must
// still wake for the last bytes.
func trickleServer(t *testing.T, piece int, pause time.Duration) (addr string, requests *atomic.Int64) {
	t.Helper()
	requests = new(atomic.Int64)
	addr = loopbackServer(t, func(c net.Conn, wg *sync.WaitGroup) {
		var owed atomic.Int64 // reply bytes not written yet
		gone := make(chan struct{})
		wg.Go(func() {
			stream := bytes.Repeat([]byte("+\r\n"), piece/3+2)
			off := 0
			for {
				n := min(int(owed.Load()), piece)
				if n == 0 {
					select {
					case <-gone:
						return
					case <-time.After(50 * time.Microsecond):
					}
					continue
				}
				if _, err := c.Write(stream[off : off+n]); err != nil {
					return
				}
				owed.Add(-int64(n))
				off = (off + n) % 3
				time.Sleep(pause)
			}
		})
		defer close(gone)
		r := bufio.NewReader(c)
		for {
			for range 7 { // *3, $n, verb, $n, channel, $n, payload
				if _, err := r.ReadString('\n'); err != nil {
					return
				}
			}
			requests.Add(1)
			owed.Add(3)
		}
	})
	return addr, requests
}

// A batch deep enough for the reader to wait for many replies at once is
// answered in full, though its replies come in pieces that end inside a
// reply and are as short as replies get.
func TestDeepBatchRepliesTrickleIn(t *testing.T) {
	addr, requests := trickleServer(t, 61, 20*time.Microsecond)
	tr := openFake(t, addr, WithReadTimeout(time.Minute))
	for _, n := range []int{lowatFrom, 700, 3000} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		before := requests.Load()
		err := tr.PublishBatch(ctx, batchOf(n))
		cancel()
		if err != nil {
			t.Fatalf("batch of %d: %v (the reader waited for bytes that never came?)", n, err)
		}
		if got := requests.Load() - before; got != int64(n) {
			t.Fatalf("batch of %d: the server read %d requests", n, got)
		}
	}
}

// Replies that come steadily, but slower than the read timeout allows for
// the bytes the reader waits for, are no stall: the reader wakes for
// what is in when its deadline passes and reads on, keeping the part of a
// reply it had.
func TestSlowRepliesAreNoStall(t *testing.T) {
	addr, _ := trickleServer(t, 2, 3*time.Millisecond) // a reply each 4.5ms, in pieces
	tr := openFake(t, addr, WithReadTimeout(300*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// 400 replies: about 2s of them, in waits of 1.7s
	if err := tr.PublishBatch(ctx, batchOf(400)); err != nil {
		t.Fatalf("a batch answered a reply each 4.5ms with a 300ms read timeout: %v", err)
	}
	if err := tr.downErr(); err != nil {
		t.Fatalf("slow replies marked Redis down: %v", err)
	}
}

func batchOf(n int) []transport.Message {
	msgs := make([]transport.Message, n)
	for i := range msgs {
		msgs[i] = msg("c")
	}
	return msgs
}

// readRequests reads PUBLISH requests from r, calling each with the count
// read so far, until r fails.
func readRequests(r *bufio.Reader, each func(n int)) {
	for n := 1; ; n++ {
		for range 7 { // *3, $n, verb, $n, channel, $n, payload
			if _, err := r.ReadString('\n'); err != nil {
				return
			}
		}
		each(n)
	}
}

// A batch whose replies are all in wakes its caller, though the batch
// behind it still owes many replies: Redis answers the first batch in a
// few writes, then pauses (a slow command, a fork) before the second.
func TestAnsweredBatchWakesItsCaller(t *testing.T) {
	addr := loopbackServer(t, func(c net.Conn, _ *sync.WaitGroup) {
		readRequests(bufio.NewReader(c), func(n int) {
			switch n {
			case 300:
				for range 10 { // a few dozen replies a write, as Redis does
					_, _ = c.Write(bytes.Repeat([]byte(":1\r\n"), 30))
					time.Sleep(time.Millisecond)
				}
			case 600:
				time.Sleep(300 * time.Millisecond)
				_, _ = c.Write(bytes.Repeat([]byte(":1\r\n"), 300))
			}
		})
	})
	tr := openFake(t, addr)
	a, b := tr.cp.startBatch(batchOf(300)), tr.cp.startBatch(batchOf(300))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if errs := a.wait(ctx); errs != nil {
		t.Errorf("the first batch, answered within milliseconds, failed while the second waited: %v", errs[0])
	}
	if errs := b.wait(context.Background()); errs != nil {
		t.Errorf("the second batch: %v", errs[0])
	}
}

// A server that answers part of a deep pipeline and then hangs is found
// stalled by the callers' deadlines, though a few of its replies wait
// unread for the reader, which expects more: the first deadline wakes the
// reader for them, the next one finds no progress.
func TestPartAnsweredThenHangIsAStall(t *testing.T) {
	addr := loopbackServer(t, func(c net.Conn, wg *sync.WaitGroup) {
		readRequests(bufio.NewReader(c), func(n int) {
			if n <= 300 {
				_, _ = c.Write([]byte(":1\r\n"))
			}
			if n == 300 {
				wg.Go(func() {
					time.Sleep(300 * time.Millisecond)
					_, _ = c.Write(bytes.Repeat([]byte(":1\r\n"), 5))
				})
			}
		})
	})
	tr := openFake(t, addr, WithReadTimeout(time.Minute), WithBackoff(time.Hour, time.Hour))
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		done <- tr.PublishBatch(ctx, batchOf(600))
	}()
	time.Sleep(time.Second) // 300 answered, 5 more, then nothing
	for try := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := tr.PublishBatch(ctx, batchOf(10))
		cancel()
		if errors.Is(tr.downErr(), transport.ErrUnavailable) || errors.Is(err, transport.ErrUnavailable) {
			t.Logf("found stalled at try %d: %v", try, tr.downErr())
			break
		}
		if try == 2 {
			t.Errorf("3 batches timed out on a hung server and Redis is not marked down (last: %v)", err)
		}
	}
	if err := <-done; err == nil {
		t.Error("the batch left unanswered succeeded")
	}
}
