package amqp_test

import (
	"testing"

	"github.com/eventpub/eventpub/amqp"
	"github.com/eventpub/eventpub/conformance"
	"github.com/eventpub/eventpub/internal/faultproxy"
	"github.com/eventpub/eventpub/transport"
)

// invalidChannels are names no AMQP routing key can carry as a channel:
// a word that binding keys read as a wildcard, and over 255 bytes.
var invalidChannels = []string{"*", "#", "a.*", "#.b", "a.#.c", "tab\there", string(make([]byte, 256))}

// harness runs the suite on the RabbitMQ at url through a fault proxy,
// whose Cut and Pass are the outage's Stop and Start (the server is shared:
// it is not ours to stop). Every transport of one harness uses the same
// fresh exchange. In queue mode each transport gets a durable queue of its
// own, bound to every channel ("#") from the start, so what is published
// before a Subscribe waits for it.
func harness(t *testing.T, url, mode string) conformance.Harness {
	proxy := faultproxy.Start(t, hostOf(t, url))
	via := withHost(t, url, proxy.Addr())
	ex := exchange(t, url)
	return conformance.Harness{
		Name: mode,
		New: func(tb testing.TB) transport.Transport {
			opts := []amqp.Option{amqp.WithExchange(ex)}
			if mode == "queue" {
				opts = append(opts, amqp.WithQueue(queue(tb, url), "#"))
			}
			return open(tb, via, opts...)
		},
		Stop:            func(testing.TB) { proxy.Cut() },
		Start:           func(testing.TB) { proxy.Pass() },
		InvalidChannels: invalidChannels,
	}
}

// TestConformance runs the suite on RabbitMQ in both subscription modes:
// exclusive auto-delete queues, and a durable named queue (Persistent).
func TestConformance(t *testing.T) {
	url := brokerURL(t)
	for _, mode := range []string{"exclusive", "queue"} {
		conformance.Run(t, harness(t, url, mode))
	}
}

// BenchmarkConformance runs the suite's benchmarks in both modes.
func BenchmarkConformance(b *testing.B) {
	url := brokerURL(b)
	ex := exchange(b, url)
	for _, mode := range []string{"exclusive", "queue"} {
		conformance.RunBenchmarks(b, conformance.Harness{
			Name: mode,
			New: func(tb testing.TB) transport.Transport {
				opts := []amqp.Option{amqp.WithExchange(ex)}
				if mode == "queue" {
					opts = append(opts, amqp.WithQueue(queue(tb, url)))
				}
				return open(tb, url, opts...)
			},
		})
	}
}
