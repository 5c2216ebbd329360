package deliverytest

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
)

// natsBackends returns the NATS brokers to test, each in JetStream mode
// (with a stream of its own) and in core mode. In core mode the async queue
// confirms every batch with a flush round trip, so nothing it counts as
// published is lost across a cut link either.
func natsBackends(t testing.TB) []backend {
	srv := brokertest.StartNATS(t)
	out := []backend{
		natsBackend(t, "nats-embedded", srv.URL(), true, srv.Stop, srv.Start),
		natsBackend(t, "nats-core-embedded", srv.URL(), false, srv.Stop, srv.Start),
	}
	if u := brokertest.RealNATSURL(); u != "" {
		out = append(out, natsBackend(t, "nats", u, true, nil, nil), natsBackend(t, "nats-core", u, false, nil, nil))
	}
	return out
}

// jetStreamBackends returns the NATS backends in JetStream mode only.
func jetStreamBackends(t testing.TB) []backend {
	var out []backend
	for _, b := range natsBackends(t) {
		if b.jetstream {
			out = append(out, b)
		}
	}
	return out
}

func natsBackend(t testing.TB, name, url string, jetstream bool, stop, start func()) backend {
	var opts []nats.Option
	if jetstream {
		opts = append(opts, nats.WithJetStream(nats.JetStreamConfig{Stream: brokertest.NATSStream(t, url)}))
	}
	return backend{
		name: name, addr: hostOf(t, url), stop: stop, start: start, jetstream: jetstream, nats: true,
		dial: func(t testing.TB, addr string) transport.Transport {
			tr, err := nats.Open(context.Background(), "nats://"+addr, opts...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tr.Close() })
			return tr
		},
	}
}
