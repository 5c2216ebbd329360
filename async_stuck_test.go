package eventpub_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// stuck is a transport that answers ErrUnavailable for every message on
// channel "stuck" while the broker is up and answers pings (as a JetStream
// subject no stream captures once did), and sends the rest.
type stuck struct{ *memory.Transport }

var errNoStream = transport.Unavailable(errors.New("no response from stream"))

func (s stuck) Publish(ctx context.Context, m transport.Message) error {
	if m.Channel == "stuck" {
		return errNoStream
	}
	return s.Transport.Publish(ctx, m)
}

func (s stuck) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	for i, m := range msgs {
		if err := s.Publish(ctx, m); err != nil {
			return &transport.BatchError{Sent: i, Err: err}
		}
	}
	return nil
}

// TestAsyncMessageFailingWhileLinkUpDoesNotHoldTheQueue: a message that
// keeps failing with an outage error while the broker answers is failed
// after a bounded number of tries, counted and reported, and the messages
// behind it are delivered.
func TestAsyncMessageFailingWhileLinkUpDoesNotHoldTheQueue(t *testing.T) {
	b := memory.NewBroker(memory.WithBuffer(1000))
	sub, err := b.Connect().Subscribe(context.Background(), "c")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	var mu sync.Mutex
	var reported []error
	pub := eventpub.New(stuck{b.Connect()}, eventpub.WithAsync(1000, eventpub.DropNewest),
		eventpub.WithErrorHandler(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }))
	must(t, pub.Publish(context.Background(), "stuck", []byte("x")))
	publishN(t, pub, 0, 100)
	start := time.Now()
	if got := receive(t, sub, 100); got[0] != 0 || got[99] != 99 {
		t.Fatalf("received %v", got)
	}
	t.Logf("the 100 messages behind the stuck one arrived after %v", time.Since(start))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	must(t, pub.Close(ctx))
	if m := pub.Metrics(); m != (eventpub.Metrics{Accepted: 101, Published: 100, Failed: 1}) {
		t.Fatalf("metrics %+v", m)
	}
	// The handler runs on its own goroutine: give it a moment.
	found := false
	for deadline := time.Now().Add(2 * time.Second); !found && time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		for _, err := range reported {
			found = found || (strings.Contains(err.Error(), `"stuck" failed`) && errors.Is(err, transport.ErrUnavailable))
		}
		mu.Unlock()
	}
	mu.Lock()
	defer mu.Unlock()
	if !found {
		t.Fatalf("the stuck message was not reported as failed: %v", reported)
	}
}

// TestAsyncOutageHoldsEvenAfterManyTries: while the broker is down (pings
// fail too) no message is failed, however many tries it takes.
func TestAsyncOutageHoldsEvenAfterManyTries(t *testing.T) {
	pub, b, sub := asyncOnDownBroker(t, 1000, eventpub.DropNewest)
	publishN(t, pub, 0, 50)
	time.Sleep(3 * time.Second) // dozens of tries at the capped backoff
	if m := pub.Metrics(); m.Failed != 0 || m.Queued != 50 {
		t.Fatalf("metrics during the outage %+v: nothing may fail", m)
	}
	b.SetDown(false)
	if got := fmt.Sprint(receive(t, sub, 50)[:3]); got != "[0 1 2]" {
		t.Fatalf("received %s", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	must(t, pub.Close(ctx))
	if m := pub.Metrics(); m != (eventpub.Metrics{Accepted: 50, Published: 50}) {
		t.Fatalf("metrics %+v", m)
	}
}
