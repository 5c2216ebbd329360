package nats

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestClassifyPublisherClosed: the error nats.go gives a JetStream publish
// whose ack Close stopped waiting for is ErrClosed.
func TestClassifyPublisherClosed(t *testing.T) {
	var tr Transport
	err := tr.classify(context.Background(), fmt.Errorf("publish: %w", jetstream.ErrJetStreamPublisherClosed))
	if !errors.Is(err, transport.ErrClosed) {
		t.Fatalf("classify(ErrJetStreamPublisherClosed) = %v, want ErrClosed", err)
	}
}

// TestAuthErrorsMatchTransportErrAuth: refused credentials and refused
// permissions match transport.ErrAuth and never ErrUnavailable; only the
// credentials match nats.ErrAuth.
func TestAuthErrorsMatchTransportErrAuth(t *testing.T) {
	var tr Transport
	creds := tr.classify(context.Background(), natsgo.ErrAuthorization)
	perm := tr.classify(context.Background(), fmt.Errorf("%w: %s", natsgo.ErrPermissionViolation, `Permissions Violation for Publish to "secret"`))
	for _, c := range []struct {
		name      string
		err       error
		credsToo  bool
		mentioned string
	}{
		{"credentials", creds, true, "authorization violation"},
		{"credentials on servers", credsErr("nats://h:4222", natsgo.ErrAuthorization), true, "nats://h:4222"},
		{"permission", perm, false, `"secret"`},
	} {
		if !errors.Is(c.err, transport.ErrAuth) || errors.Is(c.err, transport.ErrUnavailable) ||
			errors.Is(c.err, ErrAuth) != c.credsToo || !strings.Contains(c.err.Error(), c.mentioned) {
			t.Errorf("%s: %v: want transport.ErrAuth, nats.ErrAuth %v, not ErrUnavailable, naming %s", c.name, c.err, c.credsToo, c.mentioned)
		}
	}
	if !errors.Is(creds, natsgo.ErrAuthorization) {
		t.Errorf("%v does not keep its cause", creds)
	}
}

func TestPermissionViolationParse(t *testing.T) {
	for _, c := range []struct {
		err      error
		op, subj string
		ok       bool
	}{
		{fmt.Errorf("%w: %s", natsgo.ErrPermissionViolation, `Permissions Violation for Publish to "a.b"`), "publish", "a.b", true},
		{fmt.Errorf("%w: %s", natsgo.ErrPermissionViolation, `Permissions Violation for Subscription to "x.>" using queue "q"`), "subscription", "x.>", true},
		{errors.New(`Permissions Violation for Publish to "a"`), "", "", false}, // not from nats.go
		{natsgo.ErrPermissionViolation, "", "", false},                          // names no subject
		{nil, "", "", false},
	} {
		op, subj, ok := permissionViolation(c.err)
		if op != c.op || subj != c.subj || ok != c.ok {
			t.Errorf("permissionViolation(%v) = %q, %q, %v; want %q, %q, %v", c.err, op, subj, ok, c.op, c.subj, c.ok)
		}
	}
}
