package amqp_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/eventpub/eventpub/amqp"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
	amqp091 "github.com/rabbitmq/amqp091-go"
)

// brokerURL returns the RabbitMQ to test against: EVENTPUB_AMQP_URL, else
// the local default when something listens there. It skips the test when
// there is none: RabbitMQ has no in-process form.
func brokerURL(t testing.TB) string {
	t.Helper()
	return brokertest.RequireListening(t, brokertest.AMQPURLEnv, brokertest.AMQPDefaultURL)
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
