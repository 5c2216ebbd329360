package mqtt_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/eventpub/eventpub/mqtt"
	"github.com/eventpub/eventpub/transport"
)

// defaultURL is the Mosquitto the tests probe when EVENTPUB_MQTT_URL is
// not set.
const defaultURL = "mqtt://127.0.0.1:1883"

// brokerURL returns the MQTT server to test against: EVENTPUB_MQTT_URL, or
// the default when something listens there. It skips the test when there
// is none: MQTT has no in-process server.
func brokerURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("EVENTPUB_MQTT_URL")
	if u == "" {
		u = defaultURL
	}
	pu, err := url.Parse(u)
	if err != nil {
		t.Fatalf("EVENTPUB_MQTT_URL %s does not parse", transport.Redact(u))
	}
	c, err := net.DialTimeout("tcp", pu.Host, time.Second)
	if err != nil {
		if os.Getenv("EVENTPUB_MQTT_URL") != "" {
			t.Fatalf("EVENTPUB_MQTT_URL is set but %s does not answer: %v", pu.Host, err)
		}
		t.Skipf("no MQTT server listens on %s (set EVENTPUB_MQTT_URL to test against one): %v", pu.Host, err)
	}
	_ = c.Close()
	return u
}

// proxied returns brokerURL with its host replaced by a fault proxy in
// front of the real server, and the proxy.
func proxied(t testing.TB) (string, *faultproxy.Proxy) {
	t.Helper()
	u, _ := url.Parse(brokerURL(t))
	p := faultproxy.Start(t, u.Host)
	u.Host = p.Addr()
	return u.String(), p
}

// open opens url and closes the transport when the test ends.
func open(t testing.TB, url string, opts ...mqtt.Option) *mqtt.Transport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tr, err := mqtt.Open(ctx, url, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", transport.Redact(url), err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// unique returns a topic no other test run uses.
func unique(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// waitDown waits until every transport in trs fails fast with
// ErrUnavailable, so that the suite's Stop returns once they all know.
func waitDown(t testing.TB, trs []*mqtt.Transport) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, tr := range trs {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			err := tr.Ping(ctx)
			cancel()
			if errors.Is(err, transport.ErrUnavailable) || errors.Is(err, transport.ErrClosed) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("a transport still answers Ping 10s after the link was cut: %v", err)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// expectMsg receives one message and checks channel and payload.
func expectMsg(t testing.TB, sub transport.Subscription, channel, payload string) transport.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := sub.Next(ctx)
	if err != nil {
		t.Fatalf("Next (want %q on %q): %v", payload, channel, err)
	}
	if m.Channel != channel || string(m.Payload) != payload {
		t.Fatalf("got %q on %q, want %q on %q", m.Payload, m.Channel, payload, channel)
	}
	return m
}
