package mqtt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventpub/eventpub/mqtt"
	"github.com/eventpub/eventpub/transport"
)

// TestLinkLostWhileWaiting checks a publish waiting for its PUBACK when
// the link breaks fails with ErrUnknownOutcome (a kind of ErrUnavailable:
// the message was written) as soon as the driver sees the
// loss, not when its own deadline ends (paho forgets what was in flight
// on a lost connection without answering it), and that publishing works
// again after.
func TestLinkLostWhileWaiting(t *testing.T) {
	url, proxy := proxied(t)
	tr := open(t, url)
	ch := unique("inflight")
	if err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("up")}); err != nil {
		t.Fatal(err)
	}
	proxy.StallReplies() // the server gets the publishes; no PUBACK comes back
	type res struct {
		err  error
		took time.Duration
	}
	done := make(chan res, 2)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		start := time.Now()
		err := tr.Publish(ctx, transport.Message{Channel: ch, Payload: []byte("in flight")})
		done <- res{err, time.Since(start)}
	}()
	go func() {
		start := time.Now()
		batch := []transport.Message{{Channel: ch, Payload: []byte("b1")}, {Channel: ch, Payload: []byte("b2")}}
		err := tr.PublishBatch(ctx, batch)
		done <- res{err, time.Since(start)}
	}()
	time.Sleep(200 * time.Millisecond)
	proxy.CutHard()
	for range 2 {
		select {
		case r := <-done:
			if !errors.Is(r.err, transport.ErrUnknownOutcome) {
				t.Fatalf("publish in flight when the link broke: %v after %v, want ErrUnknownOutcome", r.err, r.took)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("a publish in flight still waits 5 s after the link broke")
		}
	}
	proxy.Pass()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("again")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("publishing still fails 10 s after the link came back: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestStallFoundFailsFast checks that a publish whose acknowledgement
// does not come within PublishTimeout reports an unknown outcome and
// drops the stalled link, so that the calls after it fail at once with
// ErrUnavailable without sending (no ErrUnknownOutcome) instead of each
// waiting out PublishTimeout; and that publishing works again after.
func TestStallFoundFailsFast(t *testing.T) {
	url, proxy := proxied(t)
	tr := open(t, url, mqtt.WithPublishTimeout(300*time.Millisecond))
	ch := unique("stall")
	if err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("up")}); err != nil {
		t.Fatal(err)
	}
	proxy.Stall()
	defer proxy.Pass()
	err := tr.Publish(context.Background(), transport.Message{Channel: ch, Payload: []byte("stalled")})
	if !errors.Is(err, transport.ErrUnknownOutcome) {
		t.Fatalf("publish on a stalled link: %v, want ErrUnknownOutcome", err)
	}
	for i := range 100 {
		err := tr.Publish(context.Background(), transport.Message{Channel: ch, Payload: []byte("down")})
		if !errors.Is(err, transport.ErrUnavailable) || errors.Is(err, transport.ErrUnknownOutcome) {
			t.Fatalf("publish %d after the stall was found: %v, want ErrUnavailable without ErrUnknownOutcome (not sent)", i, err)
		}
	}
	batch := []transport.Message{{Channel: ch, Payload: []byte("b1")}, {Channel: ch, Payload: []byte("b2")}}
	if err := tr.PublishBatch(context.Background(), batch); !errors.Is(err, transport.ErrUnavailable) || errors.Is(err, transport.ErrUnknownOutcome) {
		t.Fatalf("batch after the stall was found: %v, want ErrUnavailable without ErrUnknownOutcome", err)
	}
	proxy.Pass()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("again")})
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("publishing still fails 15 s after the stall ended: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
