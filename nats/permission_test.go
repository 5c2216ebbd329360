package nats_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
	"github.com/nats-io/nats-server/v2/server"
)

// limitedServer starts a server whose only user may not publish to
// "secret" nor subscribe to "hidden".
func limitedServer(t *testing.T) *brokertest.NATSServer {
	return brokertest.StartNATS(t, func(o *server.Options) {
		o.Users = []*server.User{{Username: "limited", Password: "pw", Permissions: &server.Permissions{
			Publish:   &server.SubjectPermission{Deny: []string{"secret"}},
			Subscribe: &server.SubjectPermission{Deny: []string{"hidden"}},
		}}}
	})
}

// wantDenied checks err is a permissions refusal naming subject.
func wantDenied(t *testing.T, what string, err error, subject string) {
	t.Helper()
	if !errors.Is(err, transport.ErrAuth) || !errors.Is(err, nats.ErrPermission) ||
		errors.Is(err, transport.ErrUnavailable) || errors.Is(err, nats.ErrAuth) ||
		!strings.Contains(err.Error(), `"`+subject+`"`) {
		t.Fatalf("%s: %v, want ErrPermission and transport.ErrAuth (not ErrUnavailable, not a credentials error) naming %q", what, err, subject)
	}
}

// TestPermissionViolationCore: with Flush, a publish or subscription the
// server refuses gives transport.ErrAuth naming the subject; permitted
// ones keep working, before and after.
func TestPermissionViolationCore(t *testing.T) {
	srv := limitedServer(t)
	tr := open(t, srv.URL(), nats.WithUserPassword("limited", "pw"), nats.WithFlush())
	msg := func(ch string) transport.Message { return transport.Message{Channel: ch, Payload: []byte("x")} }
	for range 2 { // a second refusal is seen too, not only the first
		if err := tr.Publish(ctxT(t), msg("open")); err != nil {
			t.Fatalf("Publish on a permitted subject: %v", err)
		}
		wantDenied(t, "Publish on a denied subject", tr.Publish(ctxT(t), msg("secret")), "secret")
	}
	if err := tr.Publish(ctxT(t), msg("open")); err != nil {
		t.Fatalf("Publish on a permitted subject after a refusal: %v", err)
	}
	err := tr.PublishBatch(ctxT(t), []transport.Message{msg("open"), msg("secret"), msg("open")})
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 0 || be.Results != nil {
		t.Fatalf("PublishBatch with a denied subject: %v, want a BatchError{Sent: 0} without Results", err)
	}
	wantDenied(t, "PublishBatch with a denied subject", err, "secret")

	_, err = tr.Subscribe(ctxT(t), "hidden")
	wantDenied(t, "Subscribe to a denied subject", err, "hidden")
	sub, err := tr.Subscribe(ctxT(t), "open")
	if err != nil {
		t.Fatalf("Subscribe to a permitted subject after a refusal: %v", err)
	}
	_ = sub.Close()
}

// TestPermissionViolationJetStream: the server answers a refused JetStream
// publish with nothing but an -ERR; the publish gives transport.ErrAuth
// naming the subject, not ErrUnavailable, once the ack wait ends.
func TestPermissionViolationJetStream(t *testing.T) {
	srv := limitedServer(t)
	tr := open(t, srv.URL()+"?publish_timeout=300ms", nats.WithUserPassword("limited", "pw"),
		nats.WithJetStream(nats.JetStreamConfig{Stream: "PERM"}))
	if err := tr.Publish(ctxT(t), transport.Message{Channel: "open", Payload: []byte("x")}); err != nil {
		t.Fatalf("Publish on a permitted subject: %v", err)
	}
	err := tr.Publish(ctxT(t), transport.Message{Channel: "secret", Payload: []byte("x")})
	wantDenied(t, "JetStream Publish on a denied subject", err, "secret")
	err = tr.PublishBatch(ctxT(t), []transport.Message{
		{Channel: "open", Payload: []byte("0")}, {Channel: "secret", Payload: []byte("1")}, {Channel: "open", Payload: []byte("2")}})
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 1 || len(be.Results) != 3 || be.Results[2] != nil {
		t.Fatalf("JetStream PublishBatch with a denied subject: %v, want BatchError{Sent: 1} with Results [nil err nil]", err)
	}
	wantDenied(t, "JetStream PublishBatch, denied message", be.Results[1], "secret")
}
