package conformance

import (
	"errors"
	"testing"

	"github.com/eventpub/eventpub/transport"
)

// testBatchWindow checks a transport.BatchStarter: batches started before
// any is waited for arrive in the order they were started; a message
// refused on its own in one of them (an invalid channel) fails alone, in
// that batch's Results, while the messages after it go; and after Close a
// started batch's Wait says ErrClosed.
func (s suite) testBatchWindow(t *testing.T) {
	pub, subT := s.open(t), s.open(t)
	bs, ok := pub.(transport.BatchStarter)
	if !ok {
		t.Skip("the transport does not implement transport.BatchStarter")
	}
	ordered := s.caps(t).Ordered
	ch := channelBase()
	sub := subscribe(t, subT, ch)
	const batches, size, badBatch, bad = 6, 50, 2, 7
	var pending []transport.PendingBatch
	for b := range batches {
		msgs := make([]transport.Message, size)
		for i := range msgs {
			msgs[i] = transportMsg(ch, b, i)
		}
		if b == badBatch {
			msgs[bad].Channel = "bad\xffchan"
		}
		pending = append(pending, bs.StartBatch(callCtx(t), msgs))
	}
	for b, p := range pending {
		err := p.Wait(callCtx(t))
		if b != badBatch {
			if err != nil {
				t.Fatalf("batch %d: %v", b, err)
			}
			continue
		}
		res := transport.BatchResults(err, size)
		if res == nil {
			t.Fatalf("batch %d with an invalid channel at %d: %v, want a *transport.BatchError with Results: later batches are on their way already", b, bad, err)
		}
		for i, r := range res {
			if (i == bad) != (r != nil) || (i == bad && !errors.Is(r, transport.ErrInvalidChannel)) {
				t.Fatalf("batch %d: Results[%d] = %v: only message %d was invalid", b, i, r, bad)
			}
		}
	}
	want := map[string]bool{}
	var order []string
	for b := range batches {
		for i := range size {
			if b != badBatch || i != bad {
				p := string(transportMsg(ch, b, i).Payload)
				want[p] = true
				order = append(order, p)
			}
		}
	}
	for k, p := range order {
		m := receive(t, sub)
		switch {
		case ordered && string(m.Payload) != p:
			t.Fatalf("message %d: got %q, want %q: batches out of the order they were started", k, m.Payload, p)
		case !want[string(m.Payload)]:
			t.Fatalf("message %d: got %q, not sent or received twice", k, m.Payload)
		}
		delete(want, string(m.Payload))
	}
	if err := pub.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	late := []transport.Message{transportMsg(ch, batches, 0)}
	if err := bs.StartBatch(callCtx(t), late).Wait(callCtx(t)); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("a batch started after Close: %v, want ErrClosed", err)
	}
}
