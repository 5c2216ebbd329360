package nats_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
)

// TestGoStringHidesSecrets checks every format verb on a Transport and a
// Config (%#v) holding a password and a token.
func TestGoStringHidesSecrets(t *testing.T) {
	tr, err := nats.Open(context.Background(), "nats://user:hunter2@"+deadAddr(t))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	cfg := nats.Config{Servers: []string{"nats://127.0.0.1:4222"}, Token: "t0ken-secret", User: "u", Password: "hunter2"}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		for _, v := range []any{tr, struct{ T *nats.Transport }{tr}} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, "hunter2") || strings.Contains(out, "t0ken-secret") {
				t.Fatalf("%s of %T shows a secret: %s", verb, v, out)
			}
		}
	}
	if out := fmt.Sprintf("%#v", cfg); strings.Contains(out, "hunter2") || strings.Contains(out, "t0ken-secret") {
		t.Fatalf("%%#v of a Config shows a secret: %s", out)
	}
	if out := fmt.Sprintf("%#v", cfg); !strings.Contains(out, `User:"u"`) || !strings.Contains(out, "nats.Config{") {
		t.Fatalf("%%#v of a Config hides too much: %s", out)
	}
}

// TestURLQueryErrors checks that an empty jetstream= and a malformed query
// are errors, not silently a default stream or ignored.
func TestURLQueryErrors(t *testing.T) {
	for url, want := range map[string]string{
		"nats://127.0.0.1:1?jetstream=":      "jetstream",
		"nats://127.0.0.1:1?jetstream=a%zz":  "malformed query",
		"nats://127.0.0.1:1?jetstream=S&x;y": "malformed query",
	} {
		tr, err := nats.Open(context.Background(), url)
		if err == nil {
			_ = tr.Close()
			t.Errorf("Open(%q) succeeded", url)
			continue
		}
		if !strings.HasPrefix(err.Error(), "eventpub/nats: ") || !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q): %v; want the prefix and %q", url, err, want)
		}
	}
}

// TestNotConnectedSaysWhy checks that while no server could be reached
// the error names the servers and the last dial's error (a refused port
// here; a name that does not resolve takes the same path), so a one-shot
// command says what is wrong.
func TestNotConnectedSaysWhy(t *testing.T) {
	addr := deadAddr(t)
	tr, err := nats.Open(context.Background(), "nats://user:hunter2@"+addr)
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	err = tr.Ping(context.Background())
	var opErr *net.OpError
	if !errors.Is(err, transport.ErrUnavailable) || !errors.As(err, &opErr) {
		t.Fatalf("Ping: %v: want ErrUnavailable wrapping the dial's *net.OpError", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "not connected to nats://"+addr) || !strings.Contains(msg, "connection refused") ||
		strings.Contains(msg, "hunter2") {
		t.Fatalf("Ping: %q does not name the server (masked) and the cause", msg)
	}
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestHugeNamesCutInErrors: an error about a 100 KB channel or pattern
// quotes only its start and says how long it was.
func TestHugeNamesCutInErrors(t *testing.T) {
	srv := brokertest.StartNATS(t)
	tr := open(t, srv.URL())
	huge := strings.Repeat("x", 100<<10)
	for what, call := range map[string]func() error{
		"Publish": func() error {
			return tr.Publish(ctxT(t), transport.Message{Channel: huge + " y", Payload: []byte("x")})
		},
		"SubscribePattern": func() error {
			sub, err := tr.SubscribePattern(ctxT(t), huge+">.a")
			if err == nil {
				_ = sub.Close()
			}
			return err
		},
	} {
		err := call()
		if !errors.Is(err, transport.ErrInvalidChannel) {
			t.Fatalf("%s with a 100 KB name: %v, want ErrInvalidChannel", what, err)
		}
		if n := len(err.Error()); n > 400 || !strings.Contains(err.Error(), "(102402 bytes)") && !strings.Contains(err.Error(), "(102403 bytes)") {
			t.Fatalf("%s: the error is %d bytes or does not give the name's length: %.300s", what, n, err)
		}
	}
}
