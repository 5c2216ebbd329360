package memory_test

import (
	"sync"
	"testing"

	"github.com/eventpub/eventpub/conformance"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// harness returns a conformance harness in which the transports of one test
// share a broker made on that test's first New; Stop and Start take it down
// and up with SetDown.
func harness(name string, opts ...memory.Option) conformance.Harness {
	var mu sync.Mutex
	brokers := map[testing.TB]*memory.Broker{}
	broker := func(t testing.TB) *memory.Broker {
		mu.Lock()
		defer mu.Unlock()
		b := brokers[t]
		if b == nil {
			b = memory.NewBroker(opts...)
			brokers[t] = b
			t.Cleanup(func() {
				mu.Lock()
				delete(brokers, t)
				mu.Unlock()
			})
		}
		return b
	}
	return conformance.Harness{
		Name:            name,
		New:             func(t testing.TB) transport.Transport { return broker(t).Connect() },
		Stop:            func(t testing.TB) { broker(t).SetDown(true) },
		Start:           func(t testing.TB) { broker(t).SetDown(false) },
		InvalidChannels: []string{"nul\x00byte", "bad-utf8-\xff\xfe"},
	}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, harness("memory"))
}

func TestConformanceWithHistory(t *testing.T) {
	conformance.Run(t, harness("memory-history", memory.WithHistory(16)))
}

func TestConformanceDropOverflow(t *testing.T) {
	// A buffer large enough for every check, so Drop never has to drop.
	conformance.Run(t, harness("memory-drop", memory.WithOverflow(memory.Drop), memory.WithBuffer(20000)))
}

func BenchmarkConformance(b *testing.B) {
	conformance.RunBenchmarks(b, harness("memory"))
}
