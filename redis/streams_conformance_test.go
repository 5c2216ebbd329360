package redis_test

import (
	"strings"
	"testing"

	"github.com/eventpub/eventpub/conformance"
	"github.com/eventpub/eventpub/internal/brokertest"
)

// The suite on streams and dual mode, selected by URL as a user would.
// maxlen stays above the 10000 messages of the suite's concurrency check:
// entries trimmed before a slow reader gets to them are gone for it.

func TestConformanceStreamsMiniredis(t *testing.T) {
	m := brokertest.StartMiniredis(t)
	conformance.Run(t, streamsHarness("miniredis-streams", m.URL()+"?mode=streams&maxlen=20000", m.Stop, m.Start))
}

// Consumer-group mode is not run through the suite: subscriptions in one
// group share its entries (each goes to one of them), which is the point
// of a group and not the suite's fan-out. streams_group_test.go checks it.

func TestConformanceDualMiniredis(t *testing.T) {
	m := brokertest.StartMiniredis(t)
	conformance.Run(t, streamsHarness("miniredis-dual", m.URL()+"?mode=dual", m.Stop, m.Start))
}

func TestConformanceStreamsRealRedis(t *testing.T) {
	url := brokertest.RealRedisURL()
	if url == "" {
		t.Skip("EVENTPUB_REDIS_URL is not set: no real Redis to test against")
	}
	sep := "?"
	if containsQuery(url) {
		sep = "&"
	}
	t.Run("streams", func(t *testing.T) {
		conformance.Run(t, streamsHarness("redis-streams", url+sep+"mode=streams&maxlen=20000", nil, nil))
	})
	t.Run("dual", func(t *testing.T) {
		conformance.Run(t, streamsHarness("redis-dual", url+sep+"mode=dual", nil, nil))
	})
}

// TestConformanceStreamsRedisServer runs streams mode on a redis-server
// this test starts, killed and restarted for the outage checks.
func TestConformanceStreamsRedisServer(t *testing.T) {
	s := brokertest.StartRedisServer(t)
	conformance.Run(t, streamsHarness("redis-server-streams", s.URL()+"?mode=streams", s.Stop, s.Start))
}

func containsQuery(url string) bool {
	for i := range len(url) {
		if url[i] == '?' {
			return true
		}
	}
	return false
}

// streamsHarness is harness with the channel names every driver refuses
// (transport.ValidateChannel), which streams mode checks before XADD.
func streamsHarness(name, url string, stop, start func()) conformance.Harness {
	h := harness(name, url, stop, start)
	h.InvalidChannels = []string{"nul\x00byte", "line\nbreak", "\xff\xfe", strings.Repeat("k", 256)}
	return h
}
