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
