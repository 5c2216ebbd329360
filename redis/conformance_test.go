package redis_test

import (
	"testing"

	"github.com/eventpub/eventpub/conformance"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/redis"
	"github.com/eventpub/eventpub/transport"
)

// harness runs the suite on url; stop and start may be nil.
func harness(name, url string, stop, start func()) conformance.Harness {
	h := conformance.Harness{
		Name: name,
		New:  func(t testing.TB) transport.Transport { return open(t, url) },
	}
	if stop != nil {
		h.Stop = func(testing.TB) { stop() }
		h.Start = func(testing.TB) { start() }
	}
	return h
}

func TestConformanceMiniredis(t *testing.T) {
	m := brokertest.StartMiniredis(t)
	conformance.Run(t, harness("miniredis", m.URL(), m.Stop, m.Start))
}

// TestConformanceRealRedis runs on the shared server of EVENTPUB_REDIS_URL,
// without the outage checks (that server is not ours to stop).
func TestConformanceRealRedis(t *testing.T) {
	url := brokertest.RealRedisURL()
	if url == "" {
		t.Skip("EVENTPUB_REDIS_URL is not set: no real Redis to test against")
	}
	conformance.Run(t, harness("redis", url, nil, nil))
}

// TestConformanceRedisServer runs on a redis-server this test starts, and
// kills and restarts it for the outage checks.
func TestConformanceRedisServer(t *testing.T) {
	s := brokertest.StartRedisServer(t)
	conformance.Run(t, harness("redis-server", s.URL(), s.Stop, s.Start))
}

// TestConformanceRedisServerSharded runs the suite with SPUBLISH and
// SSUBSCRIBE on a standalone redis-server (Redis 7 has them outside a
// cluster too).
func TestConformanceRedisServerSharded(t *testing.T) {
	s := brokertest.StartRedisServer(t)
	conformance.Run(t, conformance.Harness{
		Name:  "redis-server-sharded",
		New:   func(t testing.TB) transport.Transport { return open(t, s.URL(), redis.WithSharded(true)) },
		Stop:  func(testing.TB) { s.Stop() },
		Start: func(testing.TB) { s.Start() },
	})
}

func BenchmarkConformance(b *testing.B) {
	m := brokertest.StartMiniredis(b)
	conformance.RunBenchmarks(b, harness("miniredis", m.URL(), nil, nil))
	if url := brokertest.RealRedisURL(); url != "" {
		conformance.RunBenchmarks(b, harness("redis", url, nil, nil))
	}
}
