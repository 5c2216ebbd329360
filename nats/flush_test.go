package nats_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
)

// TestFlushDoesNotVouchAcrossAReconnect: a Flush after the connection was
// re-established cannot confirm what went to the old one, so it says the
// outcome is unknown, once; the next Flush confirms again.
func TestFlushDoesNotVouchAcrossAReconnect(t *testing.T) {
	srv := brokertest.StartNATS(t)
	proxy := faultproxy.Start(t, strings.TrimPrefix(srv.URL(), "nats://"))
	tr := open(t, "nats://"+proxy.Addr())
	var _ transport.Flusher = tr
	msg := transport.Message{Channel: "flush-" + unique(), Payload: []byte("x")}
	if err := tr.Publish(ctxT(t), msg); err != nil {
		t.Fatal(err)
	}
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatalf("Flush on a healthy link: %v", err)
	}
	if err := tr.Publish(ctxT(t), msg); err != nil {
		t.Fatal(err)
	}
	proxy.CutHard()
	proxy.Pass()
	waitFor(t, "the reconnect", func() bool { return tr.Conn().Status() == natsgo.CONNECTED && tr.Conn().Stats().Reconnects > 0 })
	waitFor(t, "publishing to work again", func() bool { return tr.Publish(ctxT(t), msg) == nil })
	err := tr.Flush(ctxT(t))
	if !errors.Is(err, transport.ErrUnknownOutcome) || !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("first Flush after a reconnect: %v, want ErrUnknownOutcome", err)
	}
	if err := tr.Flush(ctxT(t)); err != nil {
		t.Fatalf("second Flush after a reconnect: %v", err)
	}
}

// TestFlushWhileDownFailsFast: Flush on a link that is down fails at once
// with ErrUnavailable; in JetStream mode it has nothing to confirm.
func TestFlushWhileDownFailsFast(t *testing.T) {
	srv := brokertest.StartNATS(t)
	tr := open(t, srv.URL())
	js := open(t, srv.URL(), nats.WithJetStream(nats.JetStreamConfig{Stream: streamName(t, srv.URL())}))
	if err := js.Flush(ctxT(t)); err != nil {
		t.Fatalf("JetStream Flush: %v", err)
	}
	srv.Stop()
	waitFor(t, "the drop", func() bool { return tr.Conn().Status() != natsgo.CONNECTED })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	waitFor(t, "Flush to fail fast", func() bool { return errors.Is(tr.Flush(ctx), transport.ErrUnavailable) })
}
