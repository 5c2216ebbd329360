package redis

import (
	"bufio"
	"bytes"
	"context"
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
	for _, c := range []struct{ owed, buffered, want int }{
		{0, 0, 1},
		{1, 2, 1},
		{lowatFrom - 1, 0, 1}, // a few callers: wake at the first byte
		{lowatFrom, 0, lowatFrom * minReply / lowatStep * lowatStep},
		{300, 0, 768},   // 900 bytes at least, down to a step
		{300, 2, 768},   // 898
		{300, 133, 512}, // 767
		{5000, 0, lowatMax},
		{5000, 2, lowatMax},
		{lowatFrom, lowatFrom*minReply - 1, 1}, // never 0, never more than owed
	} {
		if got := wakeAfter(c.owed, c.buffered); got != c.want {
			t.Errorf("wakeAfter(%d, %d) = %d, want %d", c.owed, c.buffered, got, c.want)
		}
		if got := wakeAfter(c.owed, c.buffered); c.owed > 0 && got > max(1, c.owed*minReply-c.buffered) {
			t.Errorf("wakeAfter(%d, %d) = %d: more bytes than the replies owed bring", c.owed, c.buffered, got)
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
		msgs := make([]transport.Message, n)
		for i := range msgs {
			msgs[i] = msg("c")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		before := requests.Load()
		err := tr.PublishBatch(ctx, msgs)
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
	msgs := make([]transport.Message, 400) // about 2s of replies, in 1 KiB waits of 1.5s
	for i := range msgs {
		msgs[i] = msg("c")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := tr.PublishBatch(ctx, msgs); err != nil {
		t.Fatalf("a batch answered a reply each 4.5ms with a 300ms read timeout: %v", err)
	}
	if err := tr.downErr(); err != nil {
		t.Fatalf("slow replies marked Redis down: %v", err)
	}
}
