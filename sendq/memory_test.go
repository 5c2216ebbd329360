package sendq_test

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/bufpool"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/sendq"
	"github.com/eventpub/eventpub/transport"
)

// liveHeap returns the live heap after a collection.
func liveHeap() int64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}

// TestQueuedMessageMemory: while the broker is down, 100 000 queued
// 180-byte messages cost at most their payload plus 64 bytes each in live
// heap, the queue's own storage included, whether they came in pooled
// encode buffers (PushOwned, as the Publisher hands them) or were copied
// by Push, and with an observer that times them.
func TestQueuedMessageMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("fills a queue of 100 000 messages; -short leaves it out")
	}
	const n, size, overhead = 100000, 180, 64
	payload := bytes.Repeat([]byte("abcdefghij"), size/10)
	for _, c := range []struct{ owned, timed bool }{{true, false}, {false, false}, {true, true}} {
		owned := c.owned
		t.Run(fmt.Sprintf("owned=%v,timed=%v", c.owned, c.timed), func(t *testing.T) {
			b := memory.NewBroker()
			tr := b.Connect()
			defer tr.Close()
			b.SetDown(true)
			before := liveHeap()
			cfg := sendq.Config{Capacity: n, Policy: sendq.Block}
			if c.timed {
				cfg.Observer = &recorder{}
			}
			q, err := sendq.New(tr, cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			for range n {
				if owned {
					buf := bufpool.Get()
					*buf = append(*buf, payload...)
					err = q.PushOwned(ctx, "codeworm:events", buf, nil)
				} else {
					err = q.Push(ctx, transport.Message{Channel: "codeworm:events", Payload: payload})
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			perMsg := float64(liveHeap()-before) / n
			if c := q.Counters(); c.Queued != n {
				t.Fatalf("Counters %+v, want %d queued", c, n)
			}
			t.Logf("live heap per queued %d-byte message: %.1f B", size, perMsg)
			if perMsg > size+overhead {
				t.Errorf("live heap per queued %d-byte message = %.1f B, want at most %d", size, perMsg, size+overhead)
			}
			closed, cancel := context.WithCancel(ctx)
			cancel()
			if lost := q.Close(closed); lost != n {
				t.Fatalf("Close while down lost %d, want %d", lost, n)
			}
		})
	}
}

// TestQueueKeepsPayloadsThroughDropsAndReuse: payloads of every size (empty,
// small, larger than a shared chunk takes) come out byte for byte and in
// order after an outage with DropOldest dropping the oldest, and again
// once the queue has reused its storage; each one's latency is timed.
func TestQueueKeepsPayloadsThroughDropsAndReuse(t *testing.T) {
	b := memory.NewBroker(memory.WithBuffer(4096))
	tr := b.Connect()
	defer tr.Close()
	ctx := context.Background()
	sub, err := tr.Subscribe(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	const capacity = 600
	rec := &recorder{}
	q, err := sendq.New(tr, sendq.Config{Capacity: capacity, Policy: sendq.DropOldest, MaxBatch: 64, Observer: rec})
	if err != nil {
		t.Fatal(err)
	}
	sizes := []int{0, 1, 180, 700, 20000, 180, 3, 70000}
	msg := func(i int) []byte {
		p := make([]byte, sizes[i%len(sizes)])
		for j := range p {
			p[j] = byte(i*7 + j)
		}
		return p
	}
	expect := func(from, to int) {
		t.Helper()
		for i := from; i < to; i++ {
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			m, err := sub.Next(rctx)
			cancel()
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if want := msg(i); !bytes.Equal(m.Payload, want) {
				t.Fatalf("message %d: payload of %d bytes differs from the %d pushed", i, len(m.Payload), len(want))
			}
		}
	}
	b.SetDown(true)
	const pushed = 2000
	for i := range pushed {
		if err := q.Push(ctx, transport.Message{Channel: "c", Payload: msg(i)}); err != nil {
			t.Fatal(err)
		}
	}
	// The sender holds at most one batch (up to 64) of the first messages;
	// the others that fit are the newest.
	c := q.Counters()
	held := int(c.Queued)
	if int(c.Dropped) != pushed-held || held != capacity {
		t.Fatalf("Counters %+v, want %d queued and the rest dropped", c, capacity)
	}
	b.SetDown(false)
	waitFor(t, "the queue drained", func() bool { return q.Counters().Queued == 0 })
	// The batch in flight when the outage began comes first: the oldest
	// messages, whose count is not known up front; then the newest.
	first, err := sub.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first.Payload, msg(0)) {
		t.Fatalf("the first message out is not the first pushed")
	}
	inBatch := 1
	for ; inBatch < held; inBatch++ {
		m, err := sub.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Payload, msg(inBatch)) {
			// the first of the newest
			if want := msg(pushed - (held - inBatch)); !bytes.Equal(m.Payload, want) {
				t.Fatalf("message after %d of the batch in flight is neither the next nor one of the newest", inBatch)
			}
			break
		}
	}
	expect(pushed-(held-inBatch)+1, pushed)
	// Storage emptied above is reused now: the bytes still come out right.
	for from := pushed; from < pushed+3*capacity; from += 100 {
		for i := from; i < from+100; i++ {
			if err := q.Push(ctx, transport.Message{Channel: "c", Payload: msg(i)}); err != nil {
				t.Fatal(err)
			}
		}
		expect(from, from+100)
	}
	if lost := q.Close(ctx); lost != 0 {
		t.Fatalf("Close lost %d", lost)
	}
	if l := rec.snapshot().latency; l <= 0 || l > time.Minute {
		t.Fatalf("longest latency heard %v, want one above 0 and below the test's run time", l)
	}
}
