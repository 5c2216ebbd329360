package amqp_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/eventpub/eventpub/amqp"
	"github.com/eventpub/eventpub/transport"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// defaultURL is probed when EVENTPUB_AMQP_URL is not set.
const defaultURL = "amqp://guest:guest@127.0.0.1:5672/"

// brokerURL returns the RabbitMQ to test against: EVENTPUB_AMQP_URL, else
// the default one when something listens on its port. It skips the test
// when there is none: RabbitMQ has no in-process form.
func brokerURL(t testing.TB) string {
	t.Helper()
	raw := os.Getenv("EVENTPUB_AMQP_URL")
	if raw == "" {
		raw = defaultURL
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("EVENTPUB_AMQP_URL %s does not parse", transport.Redact(raw))
	}
	c, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err != nil {
		t.Skipf("no RabbitMQ listens on %s (set EVENTPUB_AMQP_URL to test against one): %v", u.Host, err)
	}
	_ = c.Close()
	return raw
}

// hostOf returns the host:port of an AMQP URL.
func hostOf(t testing.TB, raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("bad URL %s", transport.Redact(raw))
	}
	return u.Host
}

// withHost returns raw with its host:port replaced by addr.
func withHost(t testing.TB, raw, addr string) string {
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("bad URL %s", transport.Redact(raw))
	}
	u.Host = addr
	return u.String()
}

// unique returns a name part no other test run uses.
func unique() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// exchange returns a fresh exchange name, deleted when the test ends.
func exchange(t testing.TB, url string) string {
	name := "eventpub-test-" + unique()
	t.Cleanup(func() { cleanup(url, []string{name}, nil) })
	return name
}

// queue returns a fresh durable queue name, deleted when the test ends.
func queue(t testing.TB, url string) string {
	name := "eventpub-test-q-" + unique()
	t.Cleanup(func() { cleanup(url, nil, []string{name}) })
	return name
}

// cleanup deletes exchanges and queues with a connection of its own.
func cleanup(url string, exchanges, queues []string) {
	c, err := amqp091.DialConfig(url, amqp091.Config{Dial: amqp091.DefaultDial(2 * time.Second)})
	if err != nil {
		return // the broker is gone: nothing to clean up
	}
	defer c.Close()
	for _, q := range queues {
		if ch, err := c.Channel(); err == nil {
			_, _ = ch.QueueDelete(q, false, false, false)
			_ = ch.Close()
		}
	}
	for _, e := range exchanges {
		if ch, err := c.Channel(); err == nil {
			_ = ch.ExchangeDelete(e, false, false)
			_ = ch.Close()
		}
	}
}

// open opens a transport on url that is closed when the test ends.
func open(t testing.TB, url string, opts ...amqp.Option) *amqp.Transport {
	t.Helper()
	tr, err := amqp.Open(ctxT(t), url, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", transport.Redact(url), err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

func withExchange(ex string) amqp.Option { return amqp.WithExchange(ex) }
