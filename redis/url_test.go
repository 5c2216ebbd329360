package redis_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

func options(t *testing.T, tr *redis.Transport) *goredis.Options {
	t.Helper()
	c, ok := tr.Client().(*goredis.Client)
	if !ok {
		t.Fatalf("Open built a %T", tr.Client())
	}
	return c.Options()
}

func TestOpenURLs(t *testing.T) {
	const pw = "hunter2-pw"
	cases := []struct {
		url, network, addr, user string
		db                       int
		tls                      bool
	}{
		{"redis://u:" + pw + "@example.invalid:6390/2", "tcp", "example.invalid:6390", "u", 2, false},
		{"redis://127.0.0.1", "tcp", "127.0.0.1:6379", "", 0, false},
		{"rediss://:" + pw + "@cache.invalid/0", "tcp", "cache.invalid:6379", "", 0, true},
		{"unix:///run/redis/redis.sock?db=3", "unix", "/run/redis/redis.sock", "", 3, false},
		{"REDIS://127.0.0.1:6379/0", "tcp", "127.0.0.1:6379", "", 0, false},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			tr, err := redis.Open(context.Background(), c.url)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer tr.Close()
			o := options(t, tr)
			if o.Network != c.network || o.Addr != c.addr || o.Username != c.user || o.DB != c.db || (o.TLSConfig != nil) != c.tls {
				t.Fatalf("options: network %q addr %q user %q db %d tls %v", o.Network, o.Addr, o.Username, o.DB, o.TLSConfig != nil)
			}
			if o.DialTimeout != redis.DefaultTimeout || o.ReadTimeout != redis.DefaultTimeout || o.WriteTimeout != redis.DefaultTimeout {
				t.Fatalf("timeouts %v %v %v, want the 2s default", o.DialTimeout, o.ReadTimeout, o.WriteTimeout)
			}
			if strings.Contains(tr.String(), pw) || strings.Contains(c.url, "@") && !strings.Contains(tr.String(), "xxxxx") {
				t.Fatalf("String() = %q", tr.String())
			}
		})
	}
}

func TestOpenOptionsAndURLQuery(t *testing.T) {
	tr, err := redis.Open(context.Background(), "redis://127.0.0.1:1/0?dial_timeout=3s&read_timeout=4&pool_size=7&sharded=true",
		redis.WithReadTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	o := options(t, tr)
	if o.DialTimeout != 3*time.Second || o.ReadTimeout != time.Second || o.PoolSize != 7 {
		t.Fatalf("dial %v read %v pool %d: want the URL's dial timeout and pool size, the option's read timeout", o.DialTimeout, o.ReadTimeout, o.PoolSize)
	}
	// sharded=true in the URL: SubscribePattern is refused, as SPUBLISH
	// never matches a pattern.
	if _, err := tr.SubscribePattern(context.Background(), "x:*"); !errors.Is(err, errors.ErrUnsupported) {
		t.Fatalf("SubscribePattern in sharded mode: %v", err)
	}
}

func TestOpenWithConfig(t *testing.T) {
	tr, err := redis.Open(context.Background(), "redis://127.0.0.1:1/0?pool_size=7",
		redis.WithConfig(redis.Config{DialTimeout: 3 * time.Second, ReadTimeout: 4 * time.Second}), redis.WithReadTimeout(time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	o := options(t, tr)
	if o.DialTimeout != 3*time.Second || o.ReadTimeout != time.Second || o.PoolSize != 7 {
		t.Fatalf("dial %v read %v pool %d: want the Config's dial timeout, the later option's read timeout, the URL's pool size", o.DialTimeout, o.ReadTimeout, o.PoolSize)
	}
}

func TestOpenBadURLs(t *testing.T) {
	const pw = "hunter2-pw"
	cases := map[string]string{
		"redis://u:" + pw + "@host:port:x/0":         "cannot parse",
		"http://u:" + pw + "@host/0":                 `scheme "http"`,
		"redis://u:" + pw + "@host/0/1":              "path",
		"redis://u:" + pw + "@host/zero":             "database",
		"redis://u:" + pw + "@host/0?bogus=1":        "bogus",
		"redis://u:" + pw + "@host/0?sharded=42":     "sharded",
		"redis://u:" + pw + "@host:99999/0":          "port",
		"unix://u:" + pw + "@":                       "socket path",
		"u:" + pw + "@host":                          "scheme",
		"redis://u:" + pw + "@host/0?dial_timeout=x": "dial_timeout",
	}
	for raw, want := range cases {
		_, err := redis.Open(context.Background(), raw)
		if err == nil {
			t.Errorf("Open(%q) succeeded", raw)
			continue
		}
		if strings.Contains(err.Error(), pw) {
			t.Errorf("Open(%q) error leaks the password: %v", raw, err)
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open(%q) = %v; want it to mention %q", raw, err, want)
		}
	}
}

func TestBadOptions(t *testing.T) {
	cases := map[string]redis.Option{
		"DialTimeout":   redis.WithConnectTimeout(-time.Second),
		"PoolSize":      redis.WithPoolSize(-1),
		"MaxPayload":    redis.WithMaxPayload(redis.MaxPayloadLimit + 1),
		"MaxBackoff":    redis.WithBackoff(time.Second, time.Millisecond),
		"PipelineConns": redis.WithPipelineConns(1000),
	}
	for name, opt := range cases {
		_, err := redis.Open(context.Background(), "redis://127.0.0.1:1/0", opt)
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("option setting %s: Open error %v, want one naming %s", name, err, name)
		}
	}
	if err := (redis.Config{}).Validate(); err != nil {
		t.Fatalf("zero Config (all defaults) does not validate: %v", err)
	}
}

// The schemes are registered with transport.Open, and Open never dials.
func TestSchemesRegistered(t *testing.T) {
	got := strings.Join(transport.Schemes(), ",")
	for _, s := range []string{"redis", "rediss", "unix"} {
		if !strings.Contains(got, s) {
			t.Fatalf("scheme %q not registered: %s", s, got)
		}
	}
	tr, err := transport.Open(context.Background(), "redis://u:pw-secret@127.0.0.1:1/0")
	if err != nil {
		t.Fatalf("transport.Open with Redis down: %v", err)
	}
	defer tr.Close()
	err = tr.Publish(context.Background(), transport.Message{Channel: "c", Payload: []byte("x")})
	if !errors.Is(err, transport.ErrUnavailable) || strings.Contains(err.Error(), "pw-secret") {
		t.Fatalf("publish to a closed port: %v", err)
	}
	if _, err := transport.Open(context.Background(), "redis://h/0?bogus=pw-secret"); err == nil || strings.Contains(err.Error(), "pw-secret") && !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("bad query: %v", err)
	}
}
