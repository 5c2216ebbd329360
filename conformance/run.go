package conformance

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
)

const (
	// receiveTimeout bounds every wait for a message, so that a broken
	// driver fails the test instead of hanging it.
	receiveTimeout = 10 * time.Second
	// callTimeout bounds Publish, Subscribe and the other calls.
	callTimeout = 10 * time.Second
)

// Run checks that the transports h.New returns keep the transport contract.
// Subtests run one after another under h.Name; checks that the transport's
// Capabilities (or a missing optional interface or harness field) rule out
// are skipped with the reason. Every test uses channel names with a random
// part, so Run may target a shared server.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.New == nil {
		t.Fatal("conformance: Harness.New is nil")
	}
	name := h.Name
	if name == "" {
		name = "transport"
	}
	s := suite{h: h}
	t.Run(name, func(t *testing.T) {
		t.Run("RoundTrip", s.testRoundTrip)
		t.Run("PayloadCopied", s.testPayloadCopied)
		t.Run("ChannelIsolation", s.testIsolation)
		t.Run("FanOut", s.testFanOut)
		t.Run("MultiChannel", s.testMultiChannel)
		t.Run("ChannelNames", s.testChannelNames)
		t.Run("Order", s.testOrder)
		t.Run("Headers", s.testHeaders)
		t.Run("Persistence", s.testPersistence)
		t.Run("PublishBatch", s.testBatch)
		t.Run("ChannelRules", s.testChannelRules)
		t.Run("RejectedInBatch", s.testRejectedInBatch)
		t.Run("RejectedAsync", s.testRejectedAsync)
		t.Run("BatchWindow", s.testBatchWindow)
		t.Run("ConcurrentPublishers", s.testConcurrentPublishers)
		t.Run("Errors", s.testErrors)
		t.Run("Lifecycle", s.testLifecycle)
		t.Run("Outage", s.testOutage)
	})
}

// suite carries the harness to every check.
type suite struct{ h Harness }

// open returns a new transport that is closed when the test ends.
func (s suite) open(t testing.TB) transport.Transport {
	t.Helper()
	tr := s.h.New(t)
	if tr == nil {
		t.Fatal("Harness.New returned a nil transport")
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// caps returns the capabilities of a fresh transport.
func (s suite) caps(t testing.TB) transport.Capabilities {
	t.Helper()
	return s.open(t).Capabilities()
}

// channelBase returns a channel name no other test run uses.
func channelBase() string {
	var b [6]byte
	for i := range b {
		b[i] = byte(rand.Uint32())
	}
	return "eventpub-conformance-" + hex.EncodeToString(b[:])
}

// callCtx is a context for one call, cancelled when the test ends.
func callCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	t.Cleanup(cancel)
	return ctx
}

// subscribe opens a subscription that is closed when the test ends.
func subscribe(t testing.TB, tr transport.Transport, channels ...string) transport.Subscription {
	t.Helper()
	sub, err := tr.Subscribe(callCtx(t), channels...)
	if err != nil {
		t.Fatalf("Subscribe(%q): %v", channels, err)
	}
	if sub == nil {
		t.Fatalf("Subscribe(%q) returned a nil subscription and no error", channels)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

// publish sends one message and fails the test on error.
func publish(t testing.TB, tr transport.Transport, channel string, payload []byte) {
	t.Helper()
	if err := tr.Publish(callCtx(t), transport.Message{Channel: channel, Payload: payload}); err != nil {
		t.Fatalf("Publish on %q (%d bytes): %v", channel, len(payload), err)
	}
}

type result struct {
	msg transport.Message
	err error
}

// nextWithin calls sub.Next(ctx) and waits for it at most limit, failing the
// test if Next ignores its context. A stuck call ends when the test's
// cleanup closes the subscription.
func nextWithin(t testing.TB, sub transport.Subscription, ctx context.Context, limit time.Duration) (transport.Message, error) {
	t.Helper()
	done := make(chan result, 1)
	go func() {
		m, err := sub.Next(ctx)
		done <- result{m, err}
	}()
	timer := time.NewTimer(limit)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.msg, r.err
	case <-timer.C:
		t.Fatalf("Next did not return within %v (it must return when its context ends)", limit)
		return transport.Message{}, nil
	}
}

// receive returns the next message or fails the test after receiveTimeout.
func receive(t testing.TB, sub transport.Subscription) transport.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), receiveTimeout)
	defer cancel()
	m, err := nextWithin(t, sub, ctx, receiveTimeout+5*time.Second)
	if err != nil {
		t.Fatalf("Next: no message within %v: %v", receiveTimeout, err)
	}
	return m
}

// expect receives one message and checks its channel and payload.
func expect(t testing.TB, sub transport.Subscription, channel string, payload []byte) transport.Message {
	t.Helper()
	m := receive(t, sub)
	if m.Channel != channel {
		t.Fatalf("received a message on channel %q, want %q", m.Channel, channel)
	}
	if !bytes.Equal(m.Payload, payload) {
		t.Fatalf("payload differs: %s", diff(m.Payload, payload))
	}
	return m
}

// diff describes how got differs from want without printing large payloads.
func diff(got, want []byte) string {
	if len(got) <= 64 && len(want) <= 64 {
		return fmt.Sprintf("got %q, want %q", got, want)
	}
	i := 0
	for i < len(got) && i < len(want) && got[i] == want[i] {
		i++
	}
	return fmt.Sprintf("got %d bytes, want %d; first difference at byte %d", len(got), len(want), i)
}

// randomBytes returns n reproducible bytes covering every byte value.
func randomBytes(n int) []byte {
	r := rand.New(rand.NewPCG(uint64(n), 42))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// transportMsg is message i of publisher p.
func transportMsg(ch string, p, i int) transport.Message {
	return transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "p%d-%d", p, i)}
}
