package conformance

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
)

// hugePayloadLimit: a driver whose limit is above this is not sent an
// oversized payload (it would take too much memory).
const hugePayloadLimit = 64 << 20

// testErrors checks error classification: contexts, sizes and channel names.
func (s suite) testErrors(t *testing.T) {
	t.Run("PublishCanceledContext", s.testPublishCanceled)
	t.Run("PublishExpiredContext", s.testPublishExpired)
	t.Run("NextCanceledContext", s.testNextCanceled)
	t.Run("NextExpiredContext", s.testNextExpired)
	t.Run("PayloadTooLarge", s.testPayloadTooLarge)
	t.Run("EmptyChannel", s.testEmptyChannel)
	t.Run("InvalidChannels", s.testInvalidChannels)
	t.Run("SubscribeNoChannels", s.testSubscribeNoChannels)
}

func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s returned %v, want an error matching %v", what, err, target)
	}
}

func (s suite) testPublishCanceled(t *testing.T) {
	tr := s.open(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := tr.Publish(ctx, transport.Message{Channel: channelBase(), Payload: []byte("x")})
	wantErr(t, "Publish with a cancelled context", err, context.Canceled)
}

func (s suite) testPublishExpired(t *testing.T) {
	tr := s.open(t)
	ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err := tr.Publish(ctx, transport.Message{Channel: channelBase(), Payload: []byte("x")})
	wantErr(t, "Publish with an expired context", err, context.DeadlineExceeded)
}

func (s suite) testNextCanceled(t *testing.T) {
	sub := subscribe(t, s.open(t), channelBase())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := nextWithin(t, sub, ctx, 5*time.Second)
	wantErr(t, "Next with a cancelled context", err, context.Canceled)

	// Cancelling while Next waits must end it too.
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	_, err = nextWithin(t, sub, ctx, 5*time.Second)
	wantErr(t, "Next whose context is cancelled while it waits", err, context.Canceled)
}

func (s suite) testNextExpired(t *testing.T) {
	sub := subscribe(t, s.open(t), channelBase())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := nextWithin(t, sub, ctx, 5*time.Second)
	wantErr(t, "Next with a 50ms timeout and no message", err, context.DeadlineExceeded)
}

// testPayloadTooLarge checks a payload over MaxPayload is refused with
// ErrPayloadTooLarge and leaves the transport usable.
func (s suite) testPayloadTooLarge(t *testing.T) {
	tr := s.open(t)
	max := tr.Capabilities().MaxPayload
	switch {
	case max <= 0:
		t.Skip("Capabilities.MaxPayload is 0: the driver knows no payload limit")
	case max > hugePayloadLimit:
		t.Skipf("Capabilities.MaxPayload is %d bytes: too large to send an oversized payload in a test", max)
	}
	ch := channelBase()
	sub := subscribe(t, tr, ch)
	err := tr.Publish(callCtx(t), transport.Message{Channel: ch, Payload: make([]byte, max+1)})
	wantErr(t, "Publish of MaxPayload+1 bytes", err, transport.ErrPayloadTooLarge)
	publish(t, tr, ch, []byte("still usable"))
	expect(t, sub, ch, []byte("still usable"))
}

func (s suite) testEmptyChannel(t *testing.T) {
	tr := s.open(t)
	err := tr.Publish(callCtx(t), transport.Message{Channel: "", Payload: []byte("x")})
	wantErr(t, "Publish on an empty channel", err, transport.ErrInvalidChannel)
	sub, err := tr.Subscribe(callCtx(t), "")
	if sub != nil {
		t.Cleanup(func() { _ = sub.Close() })
	}
	wantErr(t, "Subscribe to an empty channel", err, transport.ErrInvalidChannel)
}

func (s suite) testInvalidChannels(t *testing.T) {
	if len(s.h.InvalidChannels) == 0 {
		t.Skip("Harness.InvalidChannels is empty: the driver names no invalid channels besides the empty one")
	}
	tr := s.open(t)
	for _, ch := range s.h.InvalidChannels {
		err := tr.Publish(callCtx(t), transport.Message{Channel: ch, Payload: []byte("x")})
		wantErr(t, "Publish on channel "+quote(ch), err, transport.ErrInvalidChannel)
	}
	// The transport is still usable afterwards.
	ch := channelBase()
	sub := subscribe(t, tr, ch)
	publish(t, tr, ch, []byte("ok"))
	expect(t, sub, ch, []byte("ok"))
}

func quote(s string) string { return "\"" + s + "\"" }

// testSubscribeNoChannels checks Subscribe with no channel is an error.
func (s suite) testSubscribeNoChannels(t *testing.T) {
	tr := s.open(t)
	sub, err := tr.Subscribe(callCtx(t))
	if sub != nil {
		t.Cleanup(func() { _ = sub.Close() })
	}
	if err == nil {
		t.Fatal("Subscribe with no channels returned no error")
	}
}
