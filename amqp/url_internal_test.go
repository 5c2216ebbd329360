package amqp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		url   string
		want  endpoint
		check func(t *testing.T, c Config)
	}{
		{url: "amqp://", want: endpoint{addr: "localhost:5672", user: "guest", password: "guest", vhost: "/"}},
		{url: "amqps://h", want: endpoint{tls: true, addr: "h:5671", user: "guest", password: "guest", vhost: "/"}},
		{url: "amqp://u:p@h:1234/", want: endpoint{addr: "h:1234", user: "u", password: "p", vhost: "/"}},
		{url: "amqp://u:p@h/%2f", want: endpoint{addr: "h:5672", user: "u", password: "p", vhost: "/"}},
		{url: "amqp://u:p@h/prod", want: endpoint{addr: "h:5672", user: "u", password: "p", vhost: "prod"}},
		{url: "amqp://[::1]:5673/a%2Fb", want: endpoint{addr: "[::1]:5673", user: "guest", password: "guest", vhost: "a/b"}},
		{
			url:  "amqp://h/?exchange=ev&queue=inbox&bind=a.*&bind=b,c&mandatory=true&connect_timeout=3s&heartbeat=7s&max_payload=1024&name=svc",
			want: endpoint{addr: "h:5672", user: "guest", password: "guest", vhost: "/"},
			check: func(t *testing.T, c Config) {
				if c.Exchange != "ev" || c.Queue != "inbox" || !slices.Equal(c.QueueBindings, []string{"a.*", "b", "c"}) ||
					!c.Mandatory || c.ConnectTimeout != 3*time.Second || c.Heartbeat != 7*time.Second ||
					c.MaxPayload != 1024 || c.ConnectionName != "svc" {
					t.Fatalf("config from URL: %+v", c)
				}
			},
		},
	}
	for _, c := range cases {
		var cfg Config
		ep, err := parseURL(c.url, &cfg)
		if err != nil {
			t.Fatalf("%s: %v", c.url, err)
		}
		ep.host, ep.redacted = "", ""
		if ep != c.want {
			t.Errorf("%s: got %+v, want %+v", c.url, ep, c.want)
		}
		if c.check != nil {
			c.check(t, cfg)
		}
	}
}

// TestParseURLOptionsWin: a field already set (by an option) is not
// overwritten by the URL.
func TestParseURLOptionsWin(t *testing.T) {
	cfg := Config{Exchange: "mine", ConnectTimeout: time.Second}
	if _, err := parseURL("amqp://h/?exchange=url&connect_timeout=9s", &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Exchange != "mine" || cfg.ConnectTimeout != time.Second {
		t.Fatalf("URL overrode options: %+v", cfg)
	}
}

func TestParseURLErrorsHideThePassword(t *testing.T) {
	const secret = "s3cr3t-pw"
	bad := map[string]string{
		"amqp://u:" + secret + "@h:99999/":          "bad port",
		"amqp://u:" + secret + "@h/?bogus=1":        `unknown parameter "bogus"`,
		"amqp://u:" + secret + "@h/?heartbeat=soon": "heartbeat=",
		"amqp://u:" + secret + "@h/a/b":             "one path segment",
		"http://u:" + secret + "@h/":                `scheme "http"`,
		"amqp://u:" + secret + "@h/?tls_cert=x":     "tls_cert and tls_key go together",
		"amqp://u:" + secret + "@h/\x7f":            "cannot parse",
	}
	for raw, want := range bad {
		var cfg Config
		_, err := parseURL(raw, &cfg)
		if err == nil {
			t.Errorf("%q: no error", raw)
			continue
		}
		for _, s := range []string{err.Error(), fmt.Sprintf("%#v", err)} {
			if strings.Contains(s, secret) {
				t.Errorf("%q: the error shows the password: %s", raw, s)
			}
		}
		if !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "eventpub/amqp: ") {
			t.Errorf("%q: error %q, want the prefix and %q", raw, err, want)
		}
	}
}

func TestParseURLTLSFiles(t *testing.T) {
	certs := brokertest.NewTLS(t)
	var cfg Config
	ep, err := parseURL("amqp://h/?tls_ca="+certs.CAFile, &cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !ep.tls || cfg.TLS == nil || cfg.TLS.RootCAs == nil {
		t.Fatalf("tls_ca did not turn TLS on with the CA: tls=%v cfg=%+v", ep.tls, cfg.TLS)
	}
	empty := filepath.Join(t.TempDir(), "empty.pem")
	if err := os.WriteFile(empty, []byte("no pem here"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := parseURL("amqp://h/?tls_ca="+empty, &Config{}); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("a CA file without PEM: %v", err)
	}
}

func TestValidateJoinsEveryProblem(t *testing.T) {
	err := Config{
		Exchange: strings.Repeat("x", 256), QueueBindings: []string{"a"}, ConnectTimeout: -1,
		Heartbeat: 10 * time.Millisecond, MinBackoff: time.Second, MaxBackoff: time.Millisecond,
		MaxPayload: MaxPayloadLimit + 1, SubscriptionBuffer: 70000,
	}.Validate()
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"Exchange name is 256 bytes", "without a Queue", "ConnectTimeout is -1ns",
		"Heartbeat is 10ms", "MaxBackoff 1ms is below MinBackoff 1s", "MaxPayload is 536870913", "SubscriptionBuffer is 70000"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Validate error lacks %q:\n%v", want, err)
		}
	}
	if n := len(strings.Split(err.Error(), "\n")); n != 7 {
		t.Errorf("want 7 problems, one a line; got %d:\n%v", n, err)
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("the zero Config: %v", err)
	}
}

func TestChannelRules(t *testing.T) {
	for _, ok := range []string{"codeworm:logs", "codeworm.logs", "a*b", "x.#1", "a..b", ".lead", "été", strings.Repeat("x", 255)} {
		if err := validChannel(ok); err != nil {
			t.Errorf("channel %q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "*", "#", "a.*", "#.b", "a.#.c", "tab\t", strings.Repeat("x", 256), "\xff"} {
		err := validChannel(bad)
		if !errors.Is(err, transport.ErrInvalidChannel) || !strings.Contains(err.Error(), "eventpub/amqp: ") {
			t.Errorf("channel %q: %v, want ErrInvalidChannel with the package prefix", bad, err)
		}
	}
	for _, ok := range []string{"#", "*", "codeworm.*", "*.events.#", "a.b"} {
		if err := validPattern(ok); err != nil {
			t.Errorf("pattern %q refused: %v", ok, err)
		}
	}
	for _, bad := range []string{"codeworm:*", "a.b*", "#x", "a*b", ""} {
		if err := validPattern(bad); !errors.Is(err, transport.ErrInvalidChannel) {
			t.Errorf("pattern %q: %v, want ErrInvalidChannel", bad, err)
		}
	}
}

func TestTopicMatch(t *testing.T) {
	cases := []struct {
		p, k string
		want bool
	}{
		{"#", "a", true}, {"#", "a.b.c", true}, {"a.*", "a.b", true}, {"a.*", "a.b.c", false},
		{"a.*", "a", false}, {"a.#", "a", true}, {"a.#", "a.b.c", true}, {"*.b.#", "a.b", true},
		{"*.b.#", "a.c", false}, {"a.#.c", "a.c", true}, {"a.#.c", "a.x.y.c", true}, {"a.#.c", "a.x.y", false},
		{"codeworm:logs", "codeworm:logs", true}, {"a*b", "aZb", false},
	}
	for _, c := range cases {
		if got := topicMatch(c.p, c.k); got != c.want {
			t.Errorf("topicMatch(%q, %q) = %v, want %v", c.p, c.k, got, c.want)
		}
	}
}

// TestOpenWithConfigKeepsURL: WithConfig sets fields and the URL fills the
// ones it leaves zero; no connection is needed to see the outcome.
func TestOpenWithConfigKeepsURL(t *testing.T) {
	tr, err := Open(context.Background(), "amqp://u:p@127.0.0.1:1/?exchange=from-url&queue=q1",
		WithConfig(Config{Queue: "from-config", ConnectTimeout: 100 * time.Millisecond}), WithMandatory(true))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	if tr.cfg.Exchange != "from-url" || tr.cfg.Queue != "from-config" || !tr.cfg.Mandatory || tr.cfg.ConnectTimeout != 100*time.Millisecond {
		t.Fatalf("config %+v", tr.cfg)
	}
}
