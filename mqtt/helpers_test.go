package mqtt_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/eventpub/eventpub/mqtt"
	"github.com/eventpub/eventpub/transport"
)

// brokerURL returns the MQTT server to test against: EVENTPUB_MQTT_URL, or
// the local default when something listens there. It skips the test when
// there is none: MQTT has no in-process server.
func brokerURL(t testing.TB) string {
	t.Helper()
	return brokertest.RequireListening(t, brokertest.MQTTURLEnv, brokertest.MQTTDefaultURL)
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
