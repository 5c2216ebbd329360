package amqp_test

import (
	"context"
	"testing"
	"time"

	"github.com/eventpub/eventpub/amqp"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/eventpub/eventpub/transport"
)

// TestDurableQueueDropsRedeliveryOfRead: an ack lost with the connection
// makes the broker deliver the message again after the reconnect; the
// consumer knows it handed that message out and drops it, so a durable
// queue does not duplicate what a subscriber read.
func TestDurableQueueDropsRedeliveryOfRead(t *testing.T) {
	url := brokerURL(t)
	ex, q := exchange(t, url), queue(t, url)
	proxy := faultproxy.Start(t, hostOf(t, url))
	tr := open(t, withHost(t, url, proxy.Addr()), amqp.WithExchange(ex), amqp.WithQueue(q),
		amqp.WithBackoff(10*time.Millisecond, 100*time.Millisecond))
	pub := open(t, url, amqp.WithExchange(ex))
	ch := "redeliver." + unique()
	first, second := subscribe(t, tr, ch), subscribe(t, tr, ch)

	publish(t, pub, ch, "m1")
	expect(t, second, ch, "m1") // both buffers hold m1 now
	proxy.Stall()               // the ack of the next read is held…
	expect(t, first, ch, "m1")  // …and written: m1 is read by both, acked
	proxy.CutHard()             // …and lost with the connection
	proxy.Pass()

	brokertest.WaitFor(t, 10*time.Second, "the transport to reconnect", func() bool { return tr.Ping(ctxT(t)) == nil })
	// The consumer comes back on its own; publish until m2 arrives.
	brokertest.WaitFor(t, 10*time.Second, "delivery after the reconnect", func() bool {
		return pub.Publish(ctxT(t), transport.Message{Channel: ch, Payload: []byte("m2")}) == nil
	})
	expect(t, first, ch, "m2")
	expect(t, second, ch, "m2")
}

// TestDurableQueueDeletedUnderUs: when someone deletes the durable queue,
// the broker cancels the consumer; the transport declares the queue again
// with the subscription's bindings and delivery resumes.
func TestDurableQueueDeletedUnderUs(t *testing.T) {
	url := brokerURL(t)
	ex, q := exchange(t, url), queue(t, url)
	tr := open(t, url, amqp.WithExchange(ex), amqp.WithQueue(q), amqp.WithBackoff(10*time.Millisecond, 100*time.Millisecond))
	ch := "requeue." + unique()
	sub := subscribe(t, tr, ch)
	publish(t, tr, ch, "before")
	expect(t, sub, ch, "before")
	cleanup(url, nil, []string{q})
	brokertest.WaitFor(t, 10*time.Second, "delivery after the queue was deleted", func() bool {
		publish(t, tr, ch, "after")
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		m, err := sub.Next(ctx)
		return err == nil && string(m.Payload) == "after"
	})
}
