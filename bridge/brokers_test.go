package bridge_test

import (
	"testing"

	"github.com/eventpub/eventpub/nats"
	_ "github.com/eventpub/eventpub/redis" // registers redis:// for brokertest.Open
	"github.com/eventpub/eventpub/transport"
)

// openNATS opens a NATS transport with driver options (JetStream) and
// closes it when the test ends; brokertest.Open covers plain URLs.
func openNATS(t testing.TB, url string, opts ...nats.Option) *nats.Transport {
	t.Helper()
	tr, err := nats.Open(ctxT(t), url, opts...)
	if err != nil {
		t.Fatalf("nats.Open(%s): %v", transport.Redact(url), err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}
