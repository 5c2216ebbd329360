package brokertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
)

// Pair is one Redis and one NATS server for a test that spans both brokers.
type Pair struct {
	// Name is "embedded" or "real"; use it as the subtest name.
	Name string
	// RedisURL and NATSURL are the servers' URLs.
	RedisURL, NATSURL string
}

// Pairs returns the embedded pair (miniredis and an in-process nats-server,
// closed when the test ends) always, and a "real" pair using the servers
// named by EVENTPUB_REDIS_URL / EVENTPUB_NATS_URL when either is set, the
// embedded server standing in for the one that is not.
func Pairs(t testing.TB) []Pair {
	t.Helper()
	mini := StartMiniredis(t)
	srv := StartNATS(t)
	out := []Pair{{Name: "embedded", RedisURL: mini.URL(), NATSURL: srv.URL()}}
	r, n := RealRedisURL(), RealNATSURL()
	if r == "" && n == "" {
		return out
	}
	real := Pair{Name: "real", RedisURL: mini.URL(), NATSURL: srv.URL()}
	if r != "" {
		real.RedisURL = r
	}
	if n != "" {
		real.NATSURL = n
	}
	return append(out, real)
}

// Unique returns 12 random hex digits, to make channel and stream names
// that no other test run on a shared server uses.
func Unique() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Open opens rawURL with transport.Open and closes the transport when the
// test ends; it fails the test when the URL cannot be opened. The test must
// import the driver for the URL's scheme. Errors show the URL redacted.
func Open(t testing.TB, rawURL string) transport.Transport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tr, err := transport.Open(ctx, rawURL)
	if err != nil {
		t.Fatalf("brokertest: open %s: %v", transport.Redact(rawURL), err)
	}
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// Collector keeps what a subscription delivers, read in the background.
type Collector struct {
	mu   sync.Mutex
	msgs []transport.Message
	err  error
	done chan struct{}
}

// Collect subscribes to channels on tr and keeps every message that
// arrives until the test ends, when the subscription is closed and its
// reader has stopped. It fails the test when subscribing fails.
func Collect(t testing.TB, tr transport.Transport, channels ...string) *Collector {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	sctx, scancel := context.WithTimeout(ctx, 20*time.Second)
	sub, err := tr.Subscribe(sctx, channels...)
	scancel()
	if err != nil {
		cancel()
		t.Fatalf("brokertest: subscribe to %q: %v", channels, err)
	}
	c := &Collector{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for {
			m, err := sub.Next(ctx)
			c.mu.Lock()
			if err != nil {
				c.err = err
				c.mu.Unlock()
				return
			}
			c.msgs = append(c.msgs, m)
			c.mu.Unlock()
		}
	}()
	t.Cleanup(func() { cancel(); _ = sub.Close(); <-c.done })
	return c
}

// Wait returns the first n messages once they have arrived. It fails the
// test, naming what and saying how many came, when the subscription ends
// or 20 s pass first.
func (c *Collector) Wait(t testing.TB, what string, n int) []transport.Message {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		c.mu.Lock()
		got, err := len(c.msgs), c.err
		if got >= n {
			out := append([]transport.Message(nil), c.msgs[:n]...)
			c.mu.Unlock()
			return out
		}
		c.mu.Unlock()
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d messages arrived (subscription error: %v)", what, got, n, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Count returns how many messages have arrived so far.
func (c *Collector) Count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.msgs)
}
