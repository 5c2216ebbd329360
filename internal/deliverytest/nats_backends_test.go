package deliverytest

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
)

// natsBackends returns the NATS brokers to test, in JetStream mode: core
// NATS delivers at most once by design, so only JetStream can promise that
// nothing accepted is lost across a cut link. Each gets a stream of its own.
func natsBackends(t testing.TB) []backend {
	srv := brokertest.StartNATS(t)
	out := []backend{natsBackend(t, "nats-embedded", srv.URL(), srv.Stop, srv.Start)}
	if u := brokertest.RealNATSURL(); u != "" {
		out = append(out, natsBackend(t, "nats", u, nil, nil))
	}
	return out
}

func natsBackend(t testing.TB, name, url string, stop, start func()) backend {
	js := nats.WithJetStream(nats.JetStreamConfig{Stream: brokertest.NATSStream(t, url)})
	return backend{
		name: name, addr: hostOf(t, url), stop: stop, start: start,
		dial: func(t testing.TB, addr string) transport.Transport {
			tr, err := nats.Open(context.Background(), "nats://"+addr, js)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = tr.Close() })
			return tr
		},
	}
}
