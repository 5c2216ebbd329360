package nats_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
)

// TestJetStreamBatchResults: a message refused in the middle of a
// JetStream batch, before sending (a bad channel) or by the stream (a
// wrong expected sequence), leaves the messages after it sent, and
// Results says so, so a caller resends none of them.
func TestJetStreamBatchResults(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			tr := open(t, tg.url, nats.WithJetStream(nats.JetStreamConfig{Stream: streamName(t, tg.url)}))
			ch := "results-" + unique()
			sub, err := tr.Subscribe(ctxT(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			m := func(p string) transport.Message { return transport.Message{Channel: ch, Payload: []byte(p)} }
			wrongSeq := m("refused")
			wrongSeq.Header = map[string]string{"Nats-Expected-Last-Subject-Sequence": "999999"}
			batch := []transport.Message{m("0"), m("1"), {Channel: "bad channel", Payload: []byte("x")}, m("2"), wrongSeq, m("3")}
			err = tr.PublishBatch(ctxT(t), batch)
			var be *transport.BatchError
			if !errors.As(err, &be) || be.Sent != 2 || !errors.Is(err, transport.ErrInvalidChannel) {
				t.Fatalf("PublishBatch: %v, want BatchError{Sent: 2} with ErrInvalidChannel", err)
			}
			if len(be.Results) != len(batch) {
				t.Fatalf("Results has %d entries for a batch of %d: %v", len(be.Results), len(batch), be.Results)
			}
			for i, want := range []bool{true, true, false, true, false, true} {
				if sent := be.Results[i] == nil; sent != want {
					t.Fatalf("Results[%d] = %v, want sent=%v (all: %v)", i, be.Results[i], want, be.Results)
				}
			}
			if !errors.Is(be.Results[2], transport.ErrInvalidChannel) {
				t.Fatalf("Results[2] = %v, want ErrInvalidChannel", be.Results[2])
			}
			if errors.Is(be.Results[4], transport.ErrUnavailable) {
				t.Fatalf("Results[4] = %v: a refused sequence is not an outage", be.Results[4])
			}
			for i := range 4 {
				if got, err := sub.Next(ctxT(t)); err != nil || string(got.Payload) != fmt.Sprint(i) {
					t.Fatalf("message %d: %q, %v", i, got.Payload, err)
				}
			}
		})
	}
}

// TestCoreBatchHasNoResults: core NATS does not learn each message's fate,
// so its BatchError carries no Results.
func TestCoreBatchHasNoResults(t *testing.T) {
	srv := brokertest.StartNATS(t)
	tr := open(t, srv.URL())
	err := tr.PublishBatch(ctxT(t), []transport.Message{{Channel: "a", Payload: []byte("0")}, {Channel: "bad channel"}, {Channel: "a"}})
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 1 || be.Results != nil {
		t.Fatalf("core PublishBatch: %v, want BatchError{Sent: 1} without Results", err)
	}
}

// TestStartBatchWindow: batches started one after another without
// waiting are stored in the order they were started, each Wait gives its
// batch's fate (Results for a message refused in the middle), and on core
// NATS Wait flushes. A batch still in flight when the transport closes
// ends at once.
func TestStartBatchWindow(t *testing.T) {
	srv := brokertest.StartNATS(t)
	for _, js := range []bool{true, false} {
		name := map[bool]string{true: "jetstream", false: "core"}[js]
		t.Run(name, func(t *testing.T) {
			var opts []nats.Option
			if js {
				opts = append(opts, nats.WithJetStream(nats.JetStreamConfig{Stream: streamName(t, srv.URL())}))
			}
			tr := open(t, srv.URL(), opts...)
			ch := "window-" + unique()
			sub, err := tr.Subscribe(ctxT(t), ch)
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
					msgs[7].Channel = "bad channel"
				}
				pending = append(pending, tr.StartBatch(ctxT(t), msgs))
			}
			for b, p := range pending {
				err := p.Wait(ctxT(t))
				if b != 2 {
					if err != nil {
						t.Fatalf("batch %d: %v", b, err)
					}
					continue
				}
				// In both modes: later batches are on their way already, so
				// the refused message must not hold back the ones after it.
				res := transport.BatchResults(err, size)
				if res == nil || !errors.Is(res[7], transport.ErrInvalidChannel) || res[6] != nil || res[8] != nil || res[size-1] != nil {
					t.Fatalf("batch 2: %v, want Results refusing message 7 alone", err)
				}
			}
			want := 0
			for want < batches*size {
				if want == 2*size+7 {
					want++ // refused
					continue
				}
				got, err := sub.Next(ctxT(t))
				if err != nil || string(got.Payload) != fmt.Sprint(want) {
					t.Fatalf("message %d: got %q, %v", want, got.Payload, err)
				}
				want++
			}
			p := tr.StartBatch(ctxT(t), []transport.Message{{Channel: ch, Payload: []byte("late")}})
			if err := tr.Close(); err != nil {
				t.Fatal(err)
			}
			if err := p.Wait(ctxT(t)); err != nil && !errors.Is(err, transport.ErrClosed) && !errors.Is(err, transport.ErrUnavailable) {
				t.Fatalf("Wait after Close: %v", err)
			}
			err = tr.StartBatch(ctxT(t), []transport.Message{{Channel: ch, Payload: []byte("closed")}}).Wait(ctxT(t))
			if !errors.Is(err, transport.ErrClosed) {
				t.Fatalf("a batch started after Close: %v, want ErrClosed", err)
			}
		})
	}
}
