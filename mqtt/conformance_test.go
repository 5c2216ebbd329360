package mqtt_test

import (
	"sync"
	"testing"

	"github.com/eventpub/eventpub/conformance"
	"github.com/eventpub/eventpub/mqtt"
	"github.com/eventpub/eventpub/transport"
)

// invalidChannels are names no MQTT publish topic can be.
var invalidChannels = []string{"plus+", "+", "a/+/b", "hash#", "#", "a/#", "nul\x00byte", "$SYS/x", "$reserved"}

// harness runs the suite on the real server through a fault proxy, whose
// Cut and Pass are the outage's Stop and Start (the shared server itself
// is not ours to stop).
func harness(t testing.TB, name string, opts ...mqtt.Option) conformance.Harness {
	url, proxy := proxied(t)
	var mu sync.Mutex
	var made []*mqtt.Transport
	return conformance.Harness{
		Name: name,
		New: func(t testing.TB) transport.Transport {
			tr := open(t, url, opts...)
			mu.Lock()
			made = append(made, tr)
			mu.Unlock()
			return tr
		},
		Stop: func(t testing.TB) {
			proxy.Cut()
			mu.Lock()
			trs := append([]*mqtt.Transport(nil), made...)
			mu.Unlock()
			waitDown(t, trs)
		},
		Start:           func(testing.TB) { proxy.Pass() },
		InvalidChannels: invalidChannels,
	}
}

func TestConformance(t *testing.T) {
	conformance.Run(t, harness(t, "mosquitto-qos1"))
}

// TestConformanceQoS runs the suite with QoS 0 and QoS 2.
func TestConformanceQoS(t *testing.T) {
	if testing.Short() {
		t.Skip("the suite twice more; skipped with -short")
	}
	conformance.Run(t, harness(t, "mosquitto-qos0", mqtt.WithQoS(0)))
	conformance.Run(t, harness(t, "mosquitto-qos2", mqtt.WithQoS(2)))
}

func BenchmarkConformance(b *testing.B) {
	conformance.RunBenchmarks(b, harness(b, "mosquitto"))
}
