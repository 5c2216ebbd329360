package kafka_test

import (
	"strings"
	"testing"

	"github.com/eventpub/eventpub/conformance"
	"github.com/eventpub/eventpub/internal/kafkatest"
	"github.com/eventpub/eventpub/kafka"
	"github.com/eventpub/eventpub/transport"
)

// invalidChannels are names the default (Escape) mapping cannot carry:
// its topic would be over 249 bytes.
var invalidChannels = []string{strings.Repeat("é", 50), strings.Repeat(".", 84)}

// harness runs the suite on one cluster. Stop and Start are set for kfake
// only (a real cluster is shared).
func harness(name, url string, k *kafkatest.Cluster, opts ...kafka.Option) conformance.Harness {
	tk := &tracker{}
	h := conformance.Harness{
		Name: name,
		New: func(t testing.TB) transport.Transport {
			tr, err := kafka.Open(ctxT(t), url, opts...)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			tk.add(tr)
			return tr
		},
		InvalidChannels: invalidChannels,
	}
	if k != nil {
		h.Stop = func(t testing.TB) { k.Stop(); tk.learnDown(t) }
		h.Start = func(t testing.TB) { k.Start() }
	}
	return h
}

// TestConformance runs the suite on a 3-broker kfake cluster, from the
// end (pub/sub) and from the start (replay: Persistent), and on a real
// Kafka when EVENTPUB_KAFKA_URL is set.
func TestConformance(t *testing.T) {
	k := cluster3(t)
	conformance.Run(t, harness("kfake3", k.URL(), k))
	conformance.Run(t, harness("kfake3-from-start", k.URL(), k, kafka.WithFrom(kafka.FromStart)))
	if u := realURL(); u != "" {
		conformance.Run(t, harness("real", u, nil))
		conformance.Run(t, harness("real-from-start", u, nil, kafka.WithFrom(kafka.FromStart)))
	}
}

// BenchmarkConformance runs the suite's benchmarks on kfake (and a real
// Kafka when EVENTPUB_KAFKA_URL is set).
func BenchmarkConformance(b *testing.B) {
	k := cluster3(b)
	conformance.RunBenchmarks(b, harness("kfake3", k.URL(), nil))
	if u := realURL(); u != "" {
		conformance.RunBenchmarks(b, harness("real", u, nil))
	}
}
