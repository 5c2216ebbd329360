package deliverytest

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/eventpub/eventpub/amqp"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/eventpub/eventpub/transport"
)

// amqpBackends returns RabbitMQ when one listens (EVENTPUB_AMQP_URL, else
// the default port), else nothing: it has no in-process form. The server
// is shared, so the backend's address is a fault proxy in front of it
// whose Cut and Pass stand for stopping and restarting the broker: every
// connection through it ends and new ones are refused until Pass. Each
// backend publishes to an exchange of its own, deleted at the end.
func amqpBackends(t testing.TB) []backend {
	raw, skip, err := brokertest.ListeningURL(brokertest.AMQPURLEnv, brokertest.AMQPDefaultURL)
	if err != nil {
		t.Fatal(err)
	}
	if skip != "" {
		t.Logf("RabbitMQ is left out of the delivery tests: %s", skip)
		return nil
	}
	u, _ := url.Parse(raw)
	front := faultproxy.Start(t, u.Host)
	ex := unique("eventpub-delivery-")
	t.Cleanup(func() { brokertest.DeleteAMQPExchange(raw, ex) })
	return []backend{{
		name: "rabbitmq", addr: front.Addr(),
		stop: front.Cut, start: front.Pass,
		dial: func(t testing.TB, addr string) transport.Transport {
			v := *u
			v.Host = addr
			tr, err := amqp.Open(context.Background(), v.String(), amqp.WithExchange(ex), amqp.WithConnectTimeout(time.Second))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tr.Close() })
			return tr
		},
	}}
}
