package kafka_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/kafkatest"
	"github.com/eventpub/eventpub/kafka"
	"github.com/eventpub/eventpub/transport"
)

// TestCloseContextOnStalledLink: with the link stalled, a Publish waiting
// for its acknowledgement and a group Subscription open, CloseContext
// returns once its context ends rather than after PublishTimeout (set to
// a minute here), the waiting Publish gets its verdict, and goleak in
// TestMain finds no goroutine of the clients left.
func TestCloseContextOnStalledLink(t *testing.T) {
	k := kafkatest.Start(t, kafkatest.Options{Brokers: 1})
	tr := open(t, k.URL()+"?from=start&group=g"+unique(),
		kafka.WithPublishTimeout(time.Minute), kafka.WithConnectTimeout(5*time.Second))
	var _ transport.ContextCloser = tr
	ch := "close:" + unique()
	if err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("a")}); err != nil {
		t.Fatal(err)
	}
	sub, err := tr.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	// Once a message has come the group is joined and has an offset to
	// commit: Close has a commit and a group leave to wait for.
	if m, err := sub.Next(ctxT(t)); err != nil || string(m.Payload) != "a" {
		t.Fatalf("Next = %q, %v; want a", m.Payload, err)
	}
	k.Stall()
	defer k.Pass()
	published := make(chan error, 1)
	go func() {
		published <- tr.Publish(context.Background(), transport.Message{Channel: ch, Payload: []byte("b")})
	}()
	time.Sleep(200 * time.Millisecond) // let the record go out on the stalled link
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := tr.CloseContext(ctx); err != nil {
		t.Fatalf("CloseContext: %v", err)
	}
	// Waiting out the stall would take the ConnectTimeout (5 s) for the
	// commit and group leave, 1 s more each for franz-go's fetch-session
	// close and last metrics push, or the minute of PublishTimeout for
	// the ack; the bound leaves 2.7 s over the context for a loaded machine.
	took := time.Since(start)
	t.Logf("CloseContext with a 300ms context took %v", took)
	if took > 3*time.Second {
		t.Fatalf("CloseContext took %v with a 300ms context", took)
	}
	select {
	case err := <-published:
		if err == nil {
			t.Fatal("a Publish on a stalled link succeeded")
		}
		t.Logf("the Publish in flight: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the Publish in flight did not return after CloseContext")
	}
	if _, err := sub.Next(ctxT(t)); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Next after CloseContext: %v, want ErrClosed", err)
	}
	if err := tr.CloseContext(context.Background()); err != nil {
		t.Fatalf("second CloseContext: %v", err)
	}
}

// TestCloseContextDoneWaitsForNothing: with a done context, CloseContext
// on a stalled link still closes the transport and releases the clients.
func TestCloseContextDoneWaitsForNothing(t *testing.T) {
	k := kafkatest.Start(t, kafkatest.Options{Brokers: 1})
	tr := open(t, k.URL()+"?group=g"+unique(), kafka.WithPublishTimeout(time.Minute))
	ch := "close:" + unique()
	sub, err := tr.Subscribe(ctxT(t), ch)
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	k.Stall()
	defer k.Pass()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := tr.CloseContext(ctx); err != nil {
		t.Fatalf("CloseContext: %v", err)
	}
	if err := tr.Publish(ctxT(t), transport.Message{Channel: ch}); !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Publish after CloseContext: %v, want ErrClosed", err)
	}
}

// TestPublishUnknownOutcomeOnStall: a Publish whose record went out on a
// stalled link and whose context ended before the acknowledgement says
// the outcome is unknown, and still matches its context's error.
func TestPublishUnknownOutcomeOnStall(t *testing.T) {
	k := kafkatest.Start(t, kafkatest.Options{Brokers: 1})
	tr := open(t, k.URL())
	ch := "unknown:" + unique()
	msg := transport.Message{Channel: ch, Payload: []byte("a")}
	if err := tr.Publish(ctxT(t), msg); err != nil {
		t.Fatal(err)
	}
	k.Stall()
	defer k.Pass()
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	err := tr.Publish(ctx, msg)
	if !errors.Is(err, transport.ErrUnknownOutcome) || !errors.Is(err, transport.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish on a stalled link: %v, want ErrUnknownOutcome matching context.DeadlineExceeded", err)
	}
	bctx, bcancel := context.WithTimeout(context.Background(), time.Second)
	defer bcancel()
	err = tr.PublishBatch(bctx, []transport.Message{msg, msg})
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 0 || !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("PublishBatch on a stalled link: %v, want a BatchError with ErrUnavailable", err)
	}
	for i, r := range be.Results {
		// Each message either was not sent (the link was found down
		// first: ErrUnavailable) or went out with no verdict
		// (ErrUnknownOutcome, a kind of it): never a success.
		if !errors.Is(r, transport.ErrUnavailable) {
			t.Fatalf("batch message %d: %v, want ErrUnavailable or ErrUnknownOutcome", i, r)
		}
		t.Logf("batch message %d: %v", i, r)
	}
}
