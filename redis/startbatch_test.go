package redis_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eventpub/eventpub/transport"
)

// Several batches started before any is waited for arrive in the order
// they were started, and a message refused on its own (an empty channel)
// fails alone, in its batch's Results, while the rest go.
func TestStartBatchWindow(t *testing.T) {
	for name, url := range brokers(t) {
		t.Run(name, func(t *testing.T) {
			tr := open(t, url)
			var _ transport.BatchStarter = tr
			ch := chanName("window")
			sub, err := tr.Subscribe(ctx5(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			const batches, size = 6, 50
			var pending []transport.PendingBatch
			for b := range batches {
				msgs := make([]transport.Message, size)
				for i := range msgs {
					msgs[i] = transport.Message{Channel: ch, Payload: []byte(fmt.Sprint(b*size + i))}
				}
				if b == 2 {
					msgs[7].Channel = ""
				}
				pending = append(pending, tr.StartBatch(ctx5(t), msgs))
			}
			for b, p := range pending {
				err := p.Wait(ctx5(t))
				if b != 2 {
					if err != nil {
						t.Fatalf("batch %d: %v", b, err)
					}
					continue
				}
				res := transport.BatchResults(err, size)
				if res == nil || !errors.Is(res[7], transport.ErrInvalidChannel) || res[6] != nil || res[8] != nil {
					t.Fatalf("batch 2: %v, want Results refusing message 7 alone", err)
				}
			}
			for want := 0; want < batches*size; want++ {
				if want == 2*size+7 {
					continue // refused
				}
				if got := next(t, sub); string(got.Payload) != fmt.Sprint(want) {
					t.Fatalf("message %d: got %q", want, got.Payload)
				}
			}
			_ = tr.Close()
			if err := tr.StartBatch(ctx5(t), []transport.Message{{Channel: ch, Payload: []byte("late")}}).Wait(ctx5(t)); !errors.Is(err, transport.ErrClosed) {
				t.Fatalf("after Close: %v, want ErrClosed", err)
			}
		})
	}
}
