package sendq_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/eventpub/eventpub/internal/bufpool"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/sendq"
	"github.com/eventpub/eventpub/transport"
)

// BenchmarkPush queues 180-byte messages on a memory transport, as the
// Publisher hands them (PushOwned, in a pooled buffer) and copied by Push,
// while the sender sends them; Close waits until all are sent (-benchmem:
// no allocation per message in the steady state).
func BenchmarkPush(b *testing.B) {
	payload := bytes.Repeat([]byte("abcdefghij"), 18)
	for _, owned := range []bool{true, false} {
		name := "Push"
		if owned {
			name = "PushOwned"
		}
		b.Run(name, func(b *testing.B) {
			tr := memory.New()
			defer tr.Close()
			q, err := sendq.New(tr, sendq.Config{Capacity: 1 << 14, Policy: sendq.Block})
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if owned {
					buf := bufpool.Get()
					*buf = append(*buf, payload...)
					err = q.PushOwned(ctx, "codeworm:events", buf, nil)
				} else {
					err = q.Push(ctx, transport.Message{Channel: "codeworm:events", Payload: payload})
				}
				if err != nil {
					b.Fatal(err)
				}
			}
			if lost := q.Close(ctx); lost != 0 {
				b.Fatalf("Close lost %d", lost)
			}
		})
	}
}
