package kafka_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/kafkatest"
	"github.com/eventpub/eventpub/kafka"
	"github.com/eventpub/eventpub/transport"
)

// unique returns a name part no other test run uses.
func unique() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// open opens a transport on url that is closed when the test ends.
func open(t testing.TB, url string, opts ...kafka.Option) *kafka.Transport {
	t.Helper()
	tr, err := kafka.Open(ctxT(t), url, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", transport.Redact(url), err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// realURL is the real Kafka to test against too, when set.
func realURL() string { return os.Getenv("EVENTPUB_KAFKA_URL") }

// cluster3 starts a 3-broker kfake cluster behind fault proxies; Stop and
// Start shut it down and restart it from its data directory.
func cluster3(t testing.TB) *kafkatest.Cluster {
	return kafkatest.Start(t, kafkatest.Options{Brokers: 3, Restartable: true})
}

// tracker remembers the transports a harness made, so Stop can make each
// learn that the cluster is gone: an idle Kafka client notices a dead
// connection only on its next request.
type tracker struct {
	mu  sync.Mutex
	all []*kafka.Transport
}

func (k *tracker) add(tr *kafka.Transport) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.all = append(k.all, tr)
}

// learnDown pings every transport until it reports the cluster down.
func (k *tracker) learnDown(t testing.TB) {
	k.mu.Lock()
	all := append([]*kafka.Transport(nil), k.all...)
	k.mu.Unlock()
	deadline := time.Now().Add(10 * time.Second)
	for _, tr := range all {
		for tr.Up() && time.Now().Before(deadline) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Second)
			_ = tr.Ping(ctx)
			cancel()
		}
		if tr.Up() {
			t.Errorf("%v still reports the cluster up 10s after it stopped", tr)
		}
	}
}
