package nats_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
)

// batchOf returns n messages on ch with payloads first, first+1, ...
func batchOf(ch string, first, n int) []transport.Message {
	msgs := make([]transport.Message, n)
	for i := range msgs {
		msgs[i] = transport.Message{Channel: ch, Payload: []byte(fmt.Sprint(first + i))}
	}
	return msgs
}

// TestJetStreamBatchStreamGone: when another client deleted the stream, a
// batch's messages get the server's "no responders" each, as an outage
// (ErrUnavailable) in Results, and the next batch finds the subject has
// no stream and creates it again.
func TestJetStreamBatchStreamGone(t *testing.T) {
	for _, tg := range targets(t) {
		t.Run(tg.name, func(t *testing.T) {
			stream := streamName(t, tg.url)
			tr := open(t, tg.url, nats.WithJetStream(nats.JetStreamConfig{Stream: stream}))
			ch := "gone-" + unique()
			if err := tr.PublishBatch(ctxT(t), batchOf(ch, 0, 3)); err != nil {
				t.Fatal(err)
			}
			deleteStream(t, tg.url, stream)
			err := tr.PublishBatch(ctxT(t), batchOf(ch, 3, 3))
			res := transport.BatchResults(err, 3)
			if res == nil {
				t.Fatalf("PublishBatch with the stream gone: %v, want Results", err)
			}
			for i, r := range res {
				if !errors.Is(r, transport.ErrUnavailable) {
					t.Fatalf("Results[%d] = %v, want ErrUnavailable", i, r)
				}
			}
			if err := tr.PublishBatch(ctxT(t), batchOf(ch, 3, 3)); err != nil {
				t.Fatalf("PublishBatch after the stream was gone: %v", err)
			}
			sub, err := tr.Subscribe(ctxT(t), ch)
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			for want := 3; want < 6; want++ {
				if got, err := sub.Next(ctxT(t)); err != nil || string(got.Payload) != fmt.Sprint(want) {
					t.Fatalf("message %d: got %q, %v", want, got.Payload, err)
				}
			}
		})
	}
}

// TestJetStreamBatchMaxPending: a batch larger than MaxPending waits for
// acks to make room and goes through whole, in order.
func TestJetStreamBatchMaxPending(t *testing.T) {
	srv := brokertest.StartNATS(t)
	tr := open(t, srv.URL(), nats.WithJetStream(nats.JetStreamConfig{Stream: streamName(t, srv.URL()), MaxPending: 7}))
	ch := "pending-" + unique()
	const n = 300
	var pending []transport.PendingBatch
	for b := range 3 {
		pending = append(pending, tr.StartBatch(ctxT(t), batchOf(ch, b*n, n)))
	}
	for b, p := range pending {
		if err := p.Wait(ctxT(t)); err != nil {
			t.Fatalf("batch %d: %v", b, err)
		}
	}
	sub, err := tr.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	for want := range 3 * n {
		if got, err := sub.Next(ctxT(t)); err != nil || string(got.Payload) != fmt.Sprint(want) {
			t.Fatalf("message %d: got %q, %v", want, got.Payload, err)
		}
	}
}

// TestJetStreamBatchStalledLink: when the link stalls, a batch's acks do
// not come: within about PublishTimeout each message's fate is
// ErrUnknownOutcome (they were sent), past MaxPending a message waits a
// moment for room and then fails as not sent, and later batches fail fast
// until the link is back.
func TestJetStreamBatchStalledLink(t *testing.T) {
	srv := brokertest.StartNATS(t)
	proxy := faultproxy.Start(t, strings.TrimPrefix(srv.URL(), "nats://"))
	const publishTimeout = 300 * time.Millisecond
	tr := open(t, "nats://"+proxy.Addr()+"?publish_timeout="+publishTimeout.String(),
		nats.WithJetStream(nats.JetStreamConfig{Stream: streamName(t, srv.URL()), MaxPending: 4}))
	ch := "stalled-" + unique()
	if err := tr.PublishBatch(ctxT(t), batchOf(ch, 0, 4)); err != nil {
		t.Fatal(err)
	}
	proxy.Stall()
	start := time.Now()
	err := tr.PublishBatch(ctxT(t), batchOf(ch, 4, 6))
	took := time.Since(start)
	res := transport.BatchResults(err, 6)
	if res == nil {
		t.Fatalf("PublishBatch on a stalled link: %v, want Results", err)
	}
	for i, r := range res {
		unknown := errors.Is(r, transport.ErrUnknownOutcome)
		if unknown != (i < 4) || !errors.Is(r, transport.ErrUnavailable) && !unknown {
			t.Fatalf("Results[%d] = %v, want ErrUnknownOutcome for the 4 sent, ErrUnavailable for the rest (all: %v)", i, r, res)
		}
	}
	if took > 10*publishTimeout {
		t.Fatalf("PublishBatch on the stalled link took %v", took)
	}
	err = tr.PublishBatch(ctxT(t), batchOf(ch, 10, 2))
	if res := transport.BatchResults(err, 2); res == nil || !errors.Is(res[0], transport.ErrUnavailable) || errors.Is(res[0], transport.ErrUnknownOutcome) {
		t.Fatalf("PublishBatch on the link still stalled: %v, want ErrUnavailable without sending", err)
	}
	proxy.Pass()
	waitFor(t, "the link to be back", func() bool { return tr.PublishBatch(ctxT(t), batchOf(ch, 12, 1)) == nil })
}

// TestJetStreamPublishSharesMaxPending: a single Publish counts against
// the same MaxPending as batches: with every slot taken by a batch whose
// acks a stalled link holds up, Publish waits a moment for room and fails
// as not sent (ErrUnavailable, not ErrUnknownOutcome), and the batch's
// messages, sent, end as ErrUnknownOutcome.
func TestJetStreamPublishSharesMaxPending(t *testing.T) {
	srv := brokertest.StartNATS(t)
	proxy := faultproxy.Start(t, strings.TrimPrefix(srv.URL(), "nats://"))
	tr := open(t, "nats://"+proxy.Addr()+"?publish_timeout=1s",
		nats.WithJetStream(nats.JetStreamConfig{Stream: streamName(t, srv.URL()), MaxPending: 4}))
	ch := "shared-" + unique()
	if err := tr.PublishBatch(ctxT(t), batchOf(ch, 0, 1)); err != nil {
		t.Fatal(err)
	}
	proxy.Stall()
	p := tr.StartBatch(ctxT(t), batchOf(ch, 1, 4))
	err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("alone")})
	if !errors.Is(err, transport.ErrUnavailable) || errors.Is(err, transport.ErrUnknownOutcome) {
		t.Fatalf("Publish with MaxPending taken by a batch: %v, want ErrUnavailable, not sent", err)
	}
	res := transport.BatchResults(p.Wait(ctxT(t)), 4)
	for i, r := range res {
		if !errors.Is(r, transport.ErrUnknownOutcome) {
			t.Fatalf("batch Results[%d] = %v, want ErrUnknownOutcome (all: %v)", i, r, res)
		}
	}
	if res == nil {
		t.Fatal("the batch was confirmed over a stalled link")
	}
	proxy.Pass()
}

// TestCloseWaitsForBatchAcks: Close lets the acks of a batch on its way
// arrive before it closes the connection, so the batch is confirmed.
func TestCloseWaitsForBatchAcks(t *testing.T) {
	srv := brokertest.StartNATS(t)
	tr, err := nats.Open(ctxT(t), srv.URL(), nats.WithJetStream(nats.JetStreamConfig{Stream: streamName(t, srv.URL())}))
	if err != nil {
		t.Fatal(err)
	}
	p := tr.StartBatch(ctxT(t), batchOf("closing-"+unique(), 0, 2000))
	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(ctxT(t)); err != nil {
		t.Fatalf("Wait for a batch started before Close: %v, want nil", err)
	}
}
