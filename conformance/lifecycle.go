package conformance

import (
	"context"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
)

// testLifecycle checks Close on transports and subscriptions.
func (s suite) testLifecycle(t *testing.T) {
	t.Run("CloseIdempotent", s.testCloseIdempotent)
	t.Run("CloseEndsSubscriptions", s.testCloseEndsSubscriptions)
	t.Run("UseAfterClose", s.testUseAfterClose)
	t.Run("SubscriptionClose", s.testSubscriptionClose)
}

func (s suite) testCloseIdempotent(t *testing.T) {
	tr := s.open(t)
	for i := range 2 {
		if err := tr.Close(); err != nil {
			t.Fatalf("Close call %d: %v", i+1, err)
		}
	}
}

// testCloseEndsSubscriptions checks Close wakes a waiting Next with ErrClosed.
func (s suite) testCloseEndsSubscriptions(t *testing.T) {
	tr := s.open(t)
	sub := subscribe(t, tr, channelBase())
	ctx, cancel := context.WithTimeout(context.Background(), receiveTimeout)
	defer cancel()
	waiting := make(chan result, 1)
	go func() {
		m, err := sub.Next(ctx)
		waiting <- result{m, err}
	}()
	time.Sleep(20 * time.Millisecond) // let Next start waiting; correctness does not depend on it
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	select {
	case r := <-waiting:
		wantErr(t, "Next waiting while the transport closes", r.err, transport.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Next still waits 5s after its transport was closed")
	}
	_, err := nextWithin(t, sub, ctx, 5*time.Second)
	wantErr(t, "Next after the transport closed", err, transport.ErrClosed)
}

func (s suite) testUseAfterClose(t *testing.T) {
	tr := s.open(t)
	if err := tr.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	err := tr.Publish(callCtx(t), transport.Message{Channel: channelBase(), Payload: []byte("x")})
	wantErr(t, "Publish after Close", err, transport.ErrClosed)
	sub, err := tr.Subscribe(callCtx(t), channelBase())
	if sub != nil {
		t.Cleanup(func() { _ = sub.Close() })
	}
	wantErr(t, "Subscribe after Close", err, transport.ErrClosed)
}

// testSubscriptionClose checks closing one subscription stops its delivery
// and leaves the transport and its other subscriptions working.
func (s suite) testSubscriptionClose(t *testing.T) {
	tr := s.open(t)
	ch := channelBase()
	closing, staying := subscribe(t, tr, ch), subscribe(t, tr, ch)

	ctx, cancel := context.WithTimeout(context.Background(), receiveTimeout)
	defer cancel()
	waiting := make(chan result, 1)
	go func() {
		m, err := closing.Next(ctx)
		waiting <- result{m, err}
	}()
	time.Sleep(20 * time.Millisecond) // let Next start waiting; correctness does not depend on it
	for i := range 2 {
		if err := closing.Close(); err != nil {
			t.Fatalf("Subscription.Close call %d: %v", i+1, err)
		}
	}
	select {
	case r := <-waiting:
		wantErr(t, "Next waiting while its subscription closes", r.err, transport.ErrClosed)
	case <-time.After(5 * time.Second):
		t.Fatal("Next still waits 5s after its subscription was closed")
	}
	publish(t, tr, ch, []byte("after close"))
	expect(t, staying, ch, []byte("after close"))
	_, err := nextWithin(t, closing, ctx, 5*time.Second)
	wantErr(t, "Next on a closed subscription", err, transport.ErrClosed)
}
