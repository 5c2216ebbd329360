package nats_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/nats"
	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
)

// unique returns a name part no other test run uses.
func unique() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// streamName returns a stream name for one test, deleted when it ends.
func streamName(t testing.TB, url string) string {
	name := "EVENTPUB_TEST_" + unique()
	t.Cleanup(func() { deleteStream(t, url, name) })
	return name
}

func deleteStream(t testing.TB, url, name string) {
	nc, err := natsgo.Connect(url, natsgo.Timeout(2*time.Second))
	if err != nil {
		return // the server is gone: nothing to clean up
	}
	defer nc.Close()
	req := "$JS.API.STREAM.DELETE." + name
	_, _ = nc.Request(req, nil, 2*time.Second)
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// open opens a transport on url that is closed when the test ends.
func open(t testing.TB, url string, opts ...nats.Option) *nats.Transport {
	t.Helper()
	tr, err := nats.Open(ctxT(t), url, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", transport.Redact(url), err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// servers lists the brokers tests run against: the embedded server always,
// the real one when EVENTPUB_NATS_URL is set.
type target struct {
	name string
	url  string
	srv  *brokertest.NATSServer // nil for the real server
}

func targets(t *testing.T) []target {
	srv := brokertest.StartNATS(t)
	out := []target{{name: "embedded", url: srv.URL(), srv: srv}}
	if u := brokertest.RealNATSURL(); u != "" {
		out = append(out, target{name: "real", url: u})
	}
	return out
}

// tracker remembers the transports a harness made, so Stop can wait until
// each has seen the server go (the embedded server closes every client
// socket before Shutdown returns; seeing it takes a moment).
type tracker struct {
	mu  sync.Mutex
	all []*nats.Transport
}

func (k *tracker) add(tr *nats.Transport) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.all = append(k.all, tr)
}

func (k *tracker) waitDown(t testing.TB) {
	k.mu.Lock()
	all := append([]*nats.Transport(nil), k.all...)
	k.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for _, tr := range all {
		for tr.Conn().Status() == natsgo.CONNECTED && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
}
