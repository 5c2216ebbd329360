package memory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func sub(t *testing.T, tr *memory.Transport, channels ...string) *memory.Subscription {
	t.Helper()
	s, err := tr.Subscribe(ctxFor(t, time.Second), channels...)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", channels, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s.(*memory.Subscription)
}

func pub(t *testing.T, tr *memory.Transport, ch, payload string) {
	t.Helper()
	if err := tr.Publish(ctxFor(t, time.Second), transport.Message{Channel: ch, Payload: []byte(payload)}); err != nil {
		t.Fatalf("Publish(%q, %q): %v", ch, payload, err)
	}
}

func next(t *testing.T, s transport.Subscription, want string) {
	t.Helper()
	m, err := s.Next(ctxFor(t, 5*time.Second))
	if err != nil {
		t.Fatalf("Next: %v (want %q)", err, want)
	}
	if string(m.Payload) != want {
		t.Fatalf("Next = %q, want %q", m.Payload, want)
	}
}

// empty checks s holds no message now.
func empty(t *testing.T, s transport.Subscription) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if m, err := s.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("subscription holds %q (err %v), want nothing", m.Payload, err)
	}
}

func TestBlockDoesNotDelayOtherSubscribers(t *testing.T) {
	tr := memory.New(memory.WithBuffer(2))
	t.Cleanup(func() { _ = tr.Close() })
	slow, fast := sub(t, tr, "c"), sub(t, tr, "c")
	for _, p := range []string{"1", "2"} {
		pub(t, tr, "c", p)
		next(t, fast, p)
	}
	// slow is full: the third publish waits for it until its context ends,
	// but fast has the message at once.
	err := tr.Publish(ctxFor(t, 50*time.Millisecond), transport.Message{Channel: "c", Payload: []byte("3")})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "dropped for 1") {
		t.Fatalf("Publish to a full subscriber = %v, want DeadlineExceeded naming 1 drop", err)
	}
	next(t, fast, "3")
	if tr.Dropped() != 1 || slow.Dropped() != 1 || fast.Dropped() != 0 {
		t.Fatalf("Dropped: broker %d, slow %d, fast %d; want 1, 1, 0", tr.Dropped(), slow.Dropped(), fast.Dropped())
	}
	next(t, slow, "1")
	next(t, slow, "2")
	empty(t, slow)
}

func TestBlockWaitsForRoom(t *testing.T) {
	tr := memory.New(memory.WithBuffer(1))
	t.Cleanup(func() { _ = tr.Close() })
	s := sub(t, tr, "c")
	pub(t, tr, "c", "1")
	done := make(chan error, 1)
	go func() {
		done <- tr.Publish(context.Background(), transport.Message{Channel: "c", Payload: []byte("2")})
	}()
	select {
	case err := <-done:
		t.Fatalf("Publish returned (%v) while the only subscriber was full", err)
	case <-time.After(20 * time.Millisecond):
	}
	next(t, s, "1")
	if err := <-done; err != nil {
		t.Fatalf("blocked Publish: %v", err)
	}
	next(t, s, "2")
	if tr.Dropped() != 0 {
		t.Fatalf("Dropped = %d, want 0", tr.Dropped())
	}
}

func TestBlockedPublishEndsWithCloses(t *testing.T) {
	b := memory.NewBroker(memory.WithBuffer(1))
	pubT, subT := b.Connect(), b.Connect()
	t.Cleanup(func() { _ = subT.Close() })

	s := sub(t, subT, "c")
	pub(t, pubT, "c", "fill")
	done := make(chan error, 1)
	send := func() {
		go func() {
			done <- pubT.Publish(context.Background(), transport.Message{Channel: "c", Payload: []byte("x")})
		}()
	}
	send()
	_ = s.Close() // the subscriber leaves: the publisher is released
	if err := <-done; err != nil {
		t.Fatalf("Publish released by Subscription.Close = %v, want nil", err)
	}

	sub(t, subT, "c")
	pub(t, pubT, "c", "fill")
	send()
	_ = pubT.Close() // the publisher's own transport closes
	if err := <-done; !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("Publish released by Transport.Close = %v, want ErrClosed", err)
	}
}

func TestDropCountsAndDoesNotBlock(t *testing.T) {
	tr := memory.New(memory.WithBuffer(2), memory.WithOverflow(memory.Drop))
	t.Cleanup(func() { _ = tr.Close() })
	s := sub(t, tr, "c")
	for _, p := range []string{"1", "2", "3", "4", "5"} {
		if err := tr.Publish(context.Background(), transport.Message{Channel: "c", Payload: []byte(p)}); err != nil {
			t.Fatalf("Publish %s under Drop: %v", p, err)
		}
	}
	if tr.Dropped() != 3 || s.Dropped() != 3 {
		t.Fatalf("Dropped: broker %d, subscription %d; want 3, 3", tr.Dropped(), s.Dropped())
	}
	next(t, s, "1")
	next(t, s, "2")
	empty(t, s)
}

func TestSubscribersOwnTheirCopies(t *testing.T) {
	tr := memory.New()
	t.Cleanup(func() { _ = tr.Close() })
	a, b := sub(t, tr, "c"), sub(t, tr, "c")
	hdr := map[string]string{"k": "v"}
	if err := tr.Publish(context.Background(), transport.Message{Channel: "c", Payload: []byte("abc"), Header: hdr}); err != nil {
		t.Fatal(err)
	}
	hdr["k"] = "changed"
	m, err := a.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m.Payload[0] = 'X'
	m.Header["k"] = "X"
	m2, err := b.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(m2.Payload) != "abc" || m2.Header["k"] != "v" {
		t.Fatalf("second subscriber got %q %v, want abc map[k:v]", m2.Payload, m2.Header)
	}
}

func TestSetDown(t *testing.T) {
	tr := memory.New()
	t.Cleanup(func() { _ = tr.Close() })
	s := sub(t, tr, "c")
	tr.Broker().SetDown(true)
	ctx := context.Background()
	msg := transport.Message{Channel: "c", Payload: []byte("x")}
	_, subErr := tr.Subscribe(ctx, "d")
	for name, err := range map[string]error{
		"Publish":      tr.Publish(ctx, msg),
		"PublishBatch": tr.PublishBatch(ctx, []transport.Message{msg}),
		"Subscribe":    subErr,
		"Ping":         tr.Ping(ctx),
	} {
		if !errors.Is(err, transport.ErrUnavailable) {
			t.Errorf("%s while down = %v, want ErrUnavailable", name, err)
		}
	}
	empty(t, s)
	tr.Broker().SetDown(false)
	pub(t, tr, "c", "back")
	next(t, s, "back")
}

func TestPatternSubscribe(t *testing.T) {
	tr := memory.New()
	t.Cleanup(func() { _ = tr.Close() })
	s, err := tr.SubscribePattern(context.Background(), "codeworm:*", "codeworm:ev?nts")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for _, ch := range []string{"other:x", "codeworm:events", "codeworm", "codeworm:a:b"} {
		pub(t, tr, ch, ch)
	}
	for _, want := range []string{"codeworm:events", "codeworm:a:b"} {
		m, err := s.Next(ctxFor(t, time.Second))
		if err != nil || m.Channel != want || string(m.Payload) != want {
			t.Fatalf("Next = %q on %q (%v), want %q: a message reaches a subscription once", m.Payload, m.Channel, err, want)
		}
	}
	empty(t, s)
	if _, err := tr.SubscribePattern(context.Background(), "codeworm:[ab"); !errors.Is(err, transport.ErrInvalidChannel) ||
		!strings.Contains(err.Error(), "without its ']'") {
		t.Fatalf("SubscribePattern with an unclosed class = %v, want ErrInvalidChannel naming it", err)
	}
}

func TestHistoryReplay(t *testing.T) {
	tr := memory.New(memory.WithHistory(2))
	t.Cleanup(func() { _ = tr.Close() })
	if !tr.Capabilities().Persistent {
		t.Fatal("WithHistory(2): Capabilities().Persistent is false")
	}
	for _, m := range [][2]string{{"a", "a1"}, {"a", "a2"}, {"b", "b1"}, {"a", "a3"}, {"c", "c1"}} {
		pub(t, tr, m[0], m[1])
	}
	s := sub(t, tr, "b", "a")
	pub(t, tr, "a", "live")
	for _, want := range []string{"a2", "b1", "a3", "live"} { // the last two of a, in publish order
		next(t, s, want)
	}
	p, err := tr.SubscribePattern(context.Background(), "*")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close() })
	for _, want := range []string{"b1", "a3", "c1", "live"} { // a2 gave way to live
		next(t, p, want)
	}
}

// TestBatchWithInvalidMessageSendsTheOthers: a message refused on its own
// does not stop the ones around it; Results say which failed.
func TestBatchWithInvalidMessageSendsTheOthers(t *testing.T) {
	tr := memory.New(memory.WithMaxPayload(4))
	t.Cleanup(func() { _ = tr.Close() })
	s := sub(t, tr, "c")
	err := tr.PublishBatch(context.Background(), []transport.Message{
		{Channel: "c", Payload: []byte("ok")}, {Channel: "c", Payload: []byte("too long")}, {Channel: "c", Payload: []byte("ok2")},
	})
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 1 || !errors.Is(err, transport.ErrPayloadTooLarge) ||
		!strings.Contains(err.Error(), "batch message 1") || len(be.Results) != 3 || be.Results[0] != nil || be.Results[2] != nil {
		t.Fatalf("PublishBatch = %v, want a BatchError{Sent: 1} naming message 1 as too large, the others sent", err)
	}
	next(t, s, "ok")
	next(t, s, "ok2")
	empty(t, s)
}

func TestMaxPayloadOption(t *testing.T) {
	tr := memory.New(memory.WithMaxPayload(0))
	t.Cleanup(func() { _ = tr.Close() })
	if got := tr.Capabilities().MaxPayload; got != 0 {
		t.Fatalf("WithMaxPayload(0): MaxPayload = %d, want 0 (no limit)", got)
	}
	big := make([]byte, 3<<20)
	if err := tr.Publish(context.Background(), transport.Message{Channel: "c", Payload: big}); err != nil {
		t.Fatalf("3 MiB with no limit: %v", err)
	}
	if got := memory.New().Capabilities().MaxPayload; got != memory.DefaultMaxPayload {
		t.Fatalf("default MaxPayload = %d, want %d", got, memory.DefaultMaxPayload)
	}
}

func TestInvalidChannelErrorsNameTheProblem(t *testing.T) {
	tr := memory.New()
	t.Cleanup(func() { _ = tr.Close() })
	for ch, want := range map[string]string{"": "empty", "a\x00b": "control character U+0000", "\xff": "UTF-8"} {
		err := tr.Publish(context.Background(), transport.Message{Channel: ch})
		if !errors.Is(err, transport.ErrInvalidChannel) || !strings.Contains(err.Error(), want) {
			t.Errorf("Publish on %q = %v, want ErrInvalidChannel mentioning %q", ch, err, want)
		}
	}
}
