package redis_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

// TestErrorKinds checks that a server that is down, a wrong password and a
// database index the server does not have are worded apart, classified
// with different sentinels, start with the package prefix, name the server
// and never show the password.
func TestErrorKinds(t *testing.T) {
	srv := brokertest.StartRedisServer(t, "--requirepass", "right-pw")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := l.Addr().String()
	l.Close()

	cases := []struct {
		name, url string
		is, isNot error
		says      string
	}{
		{"Down", "redis://:right-pw@" + dead + "/0", transport.ErrUnavailable, transport.ErrAuth, "cannot reach"},
		{"WrongPassword", "redis://:wrong-pw@" + srv.Addr() + "/0", redis.ErrAuth, transport.ErrUnavailable, "refused the credentials"},
		{"BadDB", "redis://:right-pw@" + srv.Addr() + "/99", transport.ErrConfig, transport.ErrUnavailable, "refused the settings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := open(t, c.url)
			for _, op := range []string{"Ping", "Publish"} {
				var err error
				if op == "Ping" {
					err = tr.Ping(ctx5(t))
				} else {
					err = tr.Publish(ctx5(t), transport.Message{Channel: "kinds", Payload: []byte("x")})
				}
				msg := fmt.Sprint(err)
				switch {
				case !errors.Is(err, c.is) || errors.Is(err, c.isNot):
					t.Fatalf("%s: %v: want errors.Is %v and not %v", op, err, c.is, c.isNot)
				case !strings.HasPrefix(msg, "eventpub/redis: "):
					t.Fatalf("%s: %q does not start with the package prefix", op, msg)
				case strings.Contains(msg, ": redis: ") || strings.Count(msg, "eventpub/redis:") > 1:
					t.Fatalf("%s: %q repeats a prefix", op, msg)
				case !strings.Contains(msg, c.says):
					t.Fatalf("%s: %q does not say %q", op, msg, c.says)
				case !strings.Contains(msg, strings.TrimPrefix(transport.Redact(c.url), "redis://")):
					t.Fatalf("%s: %q does not name the server %s", op, msg, transport.Redact(c.url))
				case strings.Contains(msg, "right-pw"), strings.Contains(msg, "wrong-pw"):
					t.Fatalf("%s: %q shows the password", op, msg)
				}
				t.Logf("%s: %s", op, msg)
			}
		})
	}
}

// TestScrubKeepsTheChain checks that an error whose text had the password
// masked still matches what it wraps: the address of a dial failure is in
// the URL, so here the password is the host name itself.
func TestScrubKeepsTheChain(t *testing.T) {
	tr := open(t, "redis://:127.0.0.1@127.0.0.1:1/0")
	err := tr.Ping(ctx5(t))
	var opErr *net.OpError
	if !errors.Is(err, transport.ErrUnavailable) || !errors.As(err, &opErr) {
		t.Fatalf("Ping: %v: want ErrUnavailable wrapping the *net.OpError", err)
	}
	if !strings.Contains(err.Error(), "dial tcp xxxxx:1") {
		t.Fatalf("the password (here also the host) is not masked in the dial error: %q", err)
	}
}

// TestGoStringHidesPassword checks every format verb on a Transport.
func TestGoStringHidesPassword(t *testing.T) {
	tr := open(t, "redis://user:hunter2@127.0.0.1:1/0")
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		out := fmt.Sprintf(verb, tr)
		if strings.Contains(out, "hunter2") {
			t.Fatalf("%s shows the password: %s", verb, out)
		}
		if !strings.Contains(out, "127.0.0.1:1") {
			t.Fatalf("%s does not name the server: %s", verb, out)
		}
	}
	// The Transport inside another value is printed by %#v too.
	if out := fmt.Sprintf("%#v", struct{ T *redis.Transport }{tr}); strings.Contains(out, "hunter2") {
		t.Fatalf("%%#v of a struct holding it shows the password: %s", out)
	}
}

// TestURLErrors checks that URL errors give the reason, once prefixed.
func TestURLErrors(t *testing.T) {
	for url, want := range map[string]string{
		"redis://:pw@localhost:abc/0":   `invalid port ":abc"`,
		"redis://:pw@localhost:99999/0": `bad port "99999"`,
		"redis://:pw@localhost:6379/x":  "invalid database number",
	} {
		_, err := redis.Open(context.Background(), url)
		msg := fmt.Sprint(err)
		if err == nil || !strings.HasPrefix(msg, "eventpub/redis: ") || !strings.Contains(msg, want) ||
			strings.Contains(msg, "redis: redis") || strings.Contains(msg, "pw@") {
			t.Errorf("Open(%q): %v; want the prefix once, %q and no password", url, err, want)
		}
	}
}
