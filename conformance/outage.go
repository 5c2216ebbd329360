package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
)

const (
	// failFast bounds the first call made while the broker is down.
	failFast = 2 * time.Second
	// failFaster bounds later calls while it is still down.
	failFaster = time.Second
	// recoverWithin is how long the driver may take to reconnect.
	recoverWithin = 10 * time.Second
)

// testOutage stops the broker, checks calls fail fast with ErrUnavailable,
// starts it again and checks publishing, an existing subscription and a new
// one all work again.
func (s suite) testOutage(t *testing.T) {
	if s.h.Stop == nil || s.h.Start == nil {
		t.Skip("Harness has no Stop/Start: outage checks need both")
	}
	pub, subT := s.open(t), s.open(t)
	ch := channelBase()
	existing := subscribe(t, subT, ch)
	publish(t, pub, ch, []byte("before"))
	expect(t, existing, ch, []byte("before"))

	s.h.Stop(t)
	down := true
	t.Cleanup(func() {
		if down {
			s.h.Start(t)
		}
	})

	timed := func(what string, limit time.Duration, call func(context.Context) error) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*limit)
		defer cancel()
		start := time.Now()
		err := call(ctx)
		took := time.Since(start)
		if !errors.Is(err, transport.ErrUnavailable) {
			t.Fatalf("%s while the broker is down returned %v after %v, want transport.ErrUnavailable", what, err, took)
		}
		if took > limit {
			t.Errorf("%s while the broker is down took %v, want at most %v", what, took, limit)
		}
	}
	down1 := transport.Message{Channel: ch, Payload: []byte("while down")}
	timed("first Publish", failFast, func(ctx context.Context) error { return pub.Publish(ctx, down1) })
	timed("second Publish", failFaster, func(ctx context.Context) error { return pub.Publish(ctx, down1) })
	timed("Ping", failFast, pub.Ping)

	s.h.Start(t)
	down = false

	// Publishing works again.
	deadline := time.Now().Add(recoverWithin)
	var err error
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err = pub.Publish(ctx, transport.Message{Channel: ch + ":probe", Payload: []byte("probe")})
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Publish still fails %v after the broker came back (%d attempts): %v", recoverWithin, attempt+1, err)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// The subscription opened before the outage receives again.
	awaitAfterOutage(t, pub, existing, ch, "existing subscription")

	// A new subscription works.
	var fresh transport.Subscription
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		fresh, err = subT.Subscribe(ctx, ch+":new")
		cancel()
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Subscribe still fails %v after the broker came back: %v", recoverWithin, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Cleanup(func() { _ = fresh.Close() })
	awaitAfterOutage(t, pub, fresh, ch+":new", "new subscription")
}

// awaitAfterOutage publishes numbered messages on ch until sub receives one
// (or recoverWithin passes): a reconnecting driver may lose the first ones.
func awaitAfterOutage(t *testing.T, pub transport.Transport, sub transport.Subscription, ch, who string) {
	t.Helper()
	deadline := time.Now().Add(recoverWithin)
	prefix := []byte("after outage ")
	for i := 0; time.Now().Before(deadline); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = pub.Publish(ctx, transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "after outage %d", i)})
		cancel()
		ctx, cancel = context.WithTimeout(context.Background(), 500*time.Millisecond)
		m, err := nextWithin(t, sub, ctx, 5*time.Second)
		cancel()
		if err == nil {
			if m.Channel != ch || !bytes.HasPrefix(m.Payload, prefix) {
				t.Fatalf("%s received %q on %q after the outage, want a message on %q", who, m.Payload, m.Channel, ch)
			}
			return
		}
		if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, transport.ErrUnavailable) {
			t.Fatalf("%s: Next after the outage: %v", who, err)
		}
	}
	t.Fatalf("%s received nothing within %v after the broker came back", who, recoverWithin)
}
