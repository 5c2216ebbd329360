package brokertest

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"testing"
	"time"

	_ "github.com/eventpub/eventpub/memory" // registers memory://
	"github.com/eventpub/eventpub/transport"
)

func TestPairsEmbeddedOnly(t *testing.T) {
	t.Setenv(RedisURLEnv, "")
	t.Setenv(NATSURLEnv, "")
	ps := Pairs(t)
	if len(ps) != 1 || ps[0].Name != "embedded" {
		t.Fatalf("Pairs without real servers = %+v, want only the embedded pair", ps)
	}
	r, err := url.Parse(ps[0].RedisURL)
	if err != nil || r.Scheme != "redis" {
		t.Fatalf("embedded Redis URL %q is not redis://", ps[0].RedisURL)
	}
	if err := ping(r.Host); err != nil {
		t.Errorf("embedded Redis at %s does not answer PING: %v", r.Host, err)
	}
	n, err := url.Parse(ps[0].NATSURL)
	if err != nil || n.Scheme != "nats" {
		t.Fatalf("embedded NATS URL %q is not nats://", ps[0].NATSURL)
	}
	c, err := net.DialTimeout("tcp", n.Host, 2*time.Second)
	if err != nil {
		t.Fatalf("embedded NATS at %s refuses connections: %v", n.Host, err)
	}
	c.Close()
}

func TestPairsReal(t *testing.T) {
	const realRedis, realNATS = "redis://127.0.0.1:1/3", "nats://127.0.0.1:2"
	for _, c := range []struct{ redis, nats string }{{realRedis, realNATS}, {realRedis, ""}, {"", realNATS}} {
		t.Setenv(RedisURLEnv, c.redis)
		t.Setenv(NATSURLEnv, c.nats)
		ps := Pairs(t)
		if len(ps) != 2 || ps[1].Name != "real" {
			t.Fatalf("Pairs with %+v = %+v, want the embedded and a real pair", c, ps)
		}
		embedded, real := ps[0], ps[1]
		wantRedis, wantNATS := c.redis, c.nats
		if wantRedis == "" {
			wantRedis = embedded.RedisURL
		}
		if wantNATS == "" {
			wantNATS = embedded.NATSURL
		}
		if real.RedisURL != wantRedis || real.NATSURL != wantNATS {
			t.Errorf("real pair with %+v = %+v, want Redis %s and NATS %s", c, real, wantRedis, wantNATS)
		}
	}
}

func TestUnique(t *testing.T) {
	a, b := Unique(), Unique()
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(a) || a == b {
		t.Errorf("Unique gave %q then %q, want two different 12-digit hex strings", a, b)
	}
}

func TestOpenAndCollect(t *testing.T) {
	name := "memory://brokertest-" + Unique()
	tr := Open(t, name)
	c := Collect(t, Open(t, name), "a", "b")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i, ch := range []string{"a", "skipped", "b", "a"} {
		if err := tr.Publish(ctx, transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "m%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	got := c.Wait(t, "collector", 3)
	want := []string{"a m0", "b m2", "a m3"}
	for i, m := range got {
		if s := m.Channel + " " + string(m.Payload); s != want[i] {
			t.Errorf("message %d = %q, want %q", i, s, want[i])
		}
	}
	if n := c.Count(); n != 3 {
		t.Errorf("Count = %d, want 3", n)
	}
}
