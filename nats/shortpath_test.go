package nats_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
	"github.com/nats-io/nats-server/v2/server"
)

// TestShortPathKeepsTheRules: once a channel has been published on, core
// Publish and PublishBatch take their short path for it; every refusal the
// full path gives must still come, on the channel the short path knows,
// and nothing must go out for it.
func TestShortPathKeepsTheRules(t *testing.T) {
	srv := brokertest.StartNATS(t, func(o *server.Options) { o.MaxPayload = 1024 })
	tr := open(t, srv.URL())
	msg := transport.Message{Channel: "short", Payload: []byte("x")}
	if err := tr.Publish(ctxT(t), msg); err != nil { // the channel is known now
		t.Fatal(err)
	}
	publishBoth := func(t *testing.T, ctx context.Context, m transport.Message) (error, error) {
		t.Helper()
		before := tr.Conn().Stats().OutMsgs
		err1 := tr.Publish(ctx, m)
		err2 := tr.PublishBatch(ctx, []transport.Message{m})
		var be *transport.BatchError
		if err2 != nil && (!errors.As(err2, &be) || be.Sent != 0) {
			t.Fatalf("PublishBatch: %v, want a *BatchError with Sent 0", err2)
		}
		if after := tr.Conn().Stats().OutMsgs; err1 != nil && err2 != nil && after != before {
			t.Fatalf("%d messages went out for refused publishes", after-before)
		}
		return err1, err2
	}
	want := func(t *testing.T, what string, err1, err2, target error) {
		t.Helper()
		if !errors.Is(err1, target) || !errors.Is(err2, target) {
			t.Fatalf("%s: Publish %v, PublishBatch %v; want both matching %v", what, err1, err2, target)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err1, err2 := publishBoth(t, ctx, msg)
	want(t, "cancelled context", err1, err2, context.Canceled)

	ctx, cancel = context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel()
	err1, err2 = publishBoth(t, ctx, msg)
	want(t, "expired context", err1, err2, context.DeadlineExceeded)

	err1, err2 = publishBoth(t, ctxT(t), transport.Message{Channel: msg.Channel, Payload: make([]byte, 1025)})
	want(t, "payload over max_payload", err1, err2, transport.ErrPayloadTooLarge)

	// The same channel in another string, and with a header: both still go.
	other := transport.Message{Channel: string([]byte(msg.Channel)), Payload: msg.Payload, Header: map[string]string{"k": "v"}}
	if err1, err2 = publishBoth(t, ctxT(t), other); err1 != nil || err2 != nil {
		t.Fatalf("Publish %v, PublishBatch %v on a known channel in another string with a header", err1, err2)
	}

	srv.Stop()
	waitFor(t, "the driver to see the link down", func() bool {
		return errors.Is(tr.Publish(ctxT(t), msg), transport.ErrUnavailable)
	})
	err1, err2 = publishBoth(t, ctxT(t), msg)
	want(t, "server down", err1, err2, transport.ErrUnavailable)

	if err := tr.Close(); err != nil {
		t.Fatal(err)
	}
	err1, err2 = publishBoth(t, ctxT(t), msg)
	want(t, "after Close", err1, err2, transport.ErrClosed)
}
