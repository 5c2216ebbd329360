package nats_test

import (
	"testing"

	"github.com/eventpub/eventpub/conformance"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
)

// invalidChannels are names no NATS subject can carry.
var invalidChannels = []string{
	"has space", "tab\there", "line\nbreak", "star*", "*", "gt>", ">", "a..b", ".lead", "trail.",
}

// harness runs the suite in one mode on one server. Stop and Start are set
// for the embedded server only (the real one is shared).
func harness(t testing.TB, tg target, mode string) conformance.Harness {
	var opts []nats.Option
	if mode == "jetstream" {
		opts = append(opts, nats.WithJetStream(nats.JetStreamConfig{Stream: streamName(t, tg.url)}))
	}
	k := &tracker{}
	h := conformance.Harness{
		Name: tg.name + "-" + mode,
		New: func(t testing.TB) transport.Transport {
			tr, err := nats.Open(ctxT(t), tg.url, opts...)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			k.add(tr)
			return tr
		},
		InvalidChannels: invalidChannels,
	}
	if tg.srv != nil {
		h.Stop = func(t testing.TB) { tg.srv.Stop(); k.waitDown(t) }
		h.Start = func(t testing.TB) { tg.srv.Start() }
	}
	return h
}

func TestConformance(t *testing.T) {
	for _, tg := range targets(t) {
		for _, mode := range []string{"core", "jetstream"} {
			conformance.Run(t, harness(t, tg, mode))
		}
	}
}

// BenchmarkConformance runs the suite's benchmarks in both modes on the
// embedded server, and on the real one when EVENTPUB_NATS_URL is set.
func BenchmarkConformance(b *testing.B) {
	srv := brokertest.StartNATS(b)
	tgs := []target{{name: "embedded", url: srv.URL(), srv: srv}}
	if u := brokertest.RealNATSURL(); u != "" {
		tgs = append(tgs, target{name: "real", url: u})
	}
	for _, tg := range tgs {
		for _, mode := range []string{"core", "jetstream"} {
			conformance.RunBenchmarks(b, harness(b, tg, mode))
		}
	}
}
