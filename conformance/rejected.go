package conformance

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/transport"
)

// badChannels break the rules of transport.ValidateChannel; every driver
// refuses them before anything reaches its broker.
var badChannels = []string{
	"bad\xffchan", "nul\x00byte", "ctl\x1fchar", "del\x7fchar", "c1\u0085char",
	strings.Repeat("x", transport.MaxChannelLen+1),
}

// testChannelRules checks that Publish, PublishBatch and Subscribe refuse
// every name transport.ValidateChannel refuses, with ErrInvalidChannel.
func (s suite) testChannelRules(t *testing.T) {
	tr := s.open(t)
	for _, ch := range badChannels {
		if transport.ValidateChannel(ch) == nil {
			t.Fatalf("suite bug: %s passes ValidateChannel", transport.QuoteChannel(ch))
		}
		q := transport.QuoteChannel(ch)
		if err := tr.Publish(callCtx(t), transport.Message{Channel: ch, Payload: []byte("x")}); !errors.Is(err, transport.ErrInvalidChannel) {
			t.Errorf("Publish on %s: %v, want ErrInvalidChannel", q, err)
		}
		if bp, ok := tr.(transport.BatchPublisher); ok {
			if err := bp.PublishBatch(callCtx(t), []transport.Message{{Channel: ch}, {Channel: ch}}); !errors.Is(err, transport.ErrInvalidChannel) {
				t.Errorf("PublishBatch on %s: %v, want ErrInvalidChannel", q, err)
			}
		}
		sub, err := tr.Subscribe(callCtx(t), ch)
		if !errors.Is(err, transport.ErrInvalidChannel) {
			t.Errorf("Subscribe to %s: %v, want ErrInvalidChannel", q, err)
		}
		if sub != nil {
			_ = sub.Close()
		}
	}
}

// testRejectedInBatch checks that a message refused in the middle of a
// PublishBatch does not stop the ones behind it: either the driver sends
// them and its *transport.BatchError's Results say so, or its Sent stops
// exactly at the refused message, so the caller can go on after it.
func (s suite) testRejectedInBatch(t *testing.T) {
	pub, subT := s.open(t), s.open(t)
	bp, ok := pub.(transport.BatchPublisher)
	if !ok {
		t.Skip("the transport does not implement transport.BatchPublisher")
	}
	ch := channelBase()
	sub := subscribe(t, subT, ch)
	const bad = 5
	msgs := make([]transport.Message, 11)
	for i := range msgs {
		msgs[i] = transportMsg(ch, 0, i)
	}
	msgs[bad].Channel = "bad\xffchan"
	err := bp.PublishBatch(callCtx(t), msgs)
	if !errors.Is(err, transport.ErrInvalidChannel) {
		t.Fatalf("PublishBatch with an invalid channel at %d: %v, want ErrInvalidChannel", bad, err)
	}
	var be *transport.BatchError
	if !errors.As(err, &be) {
		t.Fatalf("PublishBatch: %T %v, want a *transport.BatchError", err, err)
	}
	switch {
	case be.Results != nil:
		if len(be.Results) != len(msgs) {
			t.Fatalf("BatchError.Results has %d entries for %d messages", len(be.Results), len(msgs))
		}
		for i, r := range be.Results {
			if (i == bad) != (r != nil) {
				t.Fatalf("BatchError.Results[%d] = %v: only message %d was invalid", i, r, bad)
			}
		}
	case be.Sent == bad:
		// The caller goes on after the refused message, as the async
		// queue does.
		if err := bp.PublishBatch(callCtx(t), msgs[bad+1:]); err != nil {
			t.Fatalf("PublishBatch of the messages after the refused one: %v", err)
		}
	default:
		t.Fatalf("BatchError has Sent %d and no Results: the messages behind the refused one at %d are stuck", be.Sent, bad)
	}
	for i, m := range msgs {
		if i != bad {
			expect(t, sub, ch, m.Payload)
		}
	}
}

// testRejectedAsync checks, through an async eventpub.Publisher, that a
// message the driver refuses for good is counted as failed and reported,
// and that every message behind it is delivered, in order, promptly.
func (s suite) testRejectedAsync(t *testing.T) {
	pub, subT := s.open(t), s.open(t)
	ch := channelBase()
	sub := subscribe(t, subT, ch)
	var mu sync.Mutex
	var reported []error
	p := eventpub.New(pub, eventpub.WithAsync(1000, eventpub.DropNewest), eventpub.WithKeepOpen(),
		eventpub.WithErrorHandler(func(err error) { mu.Lock(); reported = append(reported, err); mu.Unlock() }))
	ctx := context.Background()
	if err := p.Publish(ctx, "bad\xffchan", []byte("{}")); err != nil && !errors.Is(err, transport.ErrInvalidChannel) {
		t.Fatalf("Publish on an invalid channel: %v", err)
	}
	const n = 100
	for i := range n {
		if err := p.Publish(ctx, ch, fmt.Appendf(nil, "m%d", i)); err != nil {
			t.Fatalf("Publish %d: %v", i, err)
		}
	}
	for i := range n {
		expect(t, sub, ch, fmt.Appendf(nil, "m%d", i))
	}
	closeCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.Close(closeCtx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	m := p.Metrics()
	if m.Published != n || m.Queued != 0 || m.Accepted != m.Published+m.Failed+m.Dropped {
		t.Fatalf("metrics %+v: want %d published, nothing queued", m, n)
	}
	if m.Accepted == n+1 {
		// The queue took the invalid message: it must have failed it and
		// said so.
		if m.Failed != 1 {
			t.Fatalf("metrics %+v: the refused message is not counted as failed", m)
		}
		// The error handler runs on a goroutine of its own: give it a moment.
		var first error
		for deadline := time.Now().Add(5 * time.Second); first == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			if len(reported) > 0 {
				first = reported[0]
			}
			mu.Unlock()
		}
		if !errors.Is(first, transport.ErrInvalidChannel) {
			t.Fatalf("the refused message was not reported with ErrInvalidChannel: %v", first)
		}
	}
}
