package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
)

// TestBridgeRedisToNATS runs the binary bridging miniredis to an embedded
// nats-server: messages published on Redis arrive on NATS with the same
// bytes, status lines count them, and SIGINT stops the bridge cleanly.
func TestBridgeRedisToNATS(t *testing.T) {
	redisURL := brokertest.StartMiniredis(t).URL()
	natsURL := brokertest.StartNATS(t).URL()
	sub := subscribe(t, natsURL, "codeworm:events", "codeworm:logs")

	b := startBin(t, "bridge", redisURL, natsURL, "--status-every", "50ms")
	b.waitStderr("bridge: subscribed to channels codeworm:logs, codeworm:events, codeworm:stats on " + redisURL + ", relaying to " + natsURL)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src, err := transport.Open(ctx, redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	payloads := []transport.Message{
		{Channel: "codeworm:events", Payload: []byte(`{"type":"documentation_committed","timestamp":"2026-02-19T13:29:00.123456","data":{"time_ms":2310.5,"note":"<é>\u2028"}}`)},
		{Channel: "codeworm:logs", Payload: []byte("not JSON \x00\xff bytes")},
	}
	for _, m := range payloads {
		if err := src.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
		got := next(t, sub)
		if got.Channel != m.Channel || string(got.Payload) != string(m.Payload) {
			t.Fatalf("NATS got %s %q, want %s %q", got.Channel, got.Payload, m.Channel, m.Payload)
		}
	}
	b.waitStderr("bridge: received 2 relayed 2 dropped 0 failed 0 queued 0")
	b.interrupt()
	if code := b.wait(); code != 0 {
		t.Fatalf("bridge after SIGINT: exit %d; stderr %s", code, b.stderr.String())
	}
	ls := lines(b.stderr.String())
	if last := ls[len(ls)-1]; last != "bridge: received 2 relayed 2 dropped 0 failed 0 queued 0" {
		t.Fatalf("last status line %q", last)
	}
	if !strings.Contains(b.stderr.String(), "bridge: stopping") {
		t.Fatalf("no stopping line: %s", b.stderr.String())
	}
}

// TestBridgeTargetDownHidesSecret starts a bridge whose target is down:
// it warns once, keeps the message queued, and never shows the password.
func TestBridgeTargetDownHidesSecret(t *testing.T) {
	const secret = "hunter2secret"
	redisURL := brokertest.StartMiniredis(t).URL()
	target := "redis://user:" + secret + "@127.0.0.1:1/0"
	b := startBin(t, "bridge", redisURL, target, "raw:x", "--status-every", "50ms", "--drain", "100ms")
	b.waitStderr("bridge: target redis://user:xxxxx@127.0.0.1:1/0 is not reachable yet")
	b.waitStderr("bridge: subscribed to channels raw:x")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src, err := transport.Open(ctx, redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if err := src.Publish(ctx, transport.Message{Channel: "raw:x", Payload: []byte("m")}); err != nil {
		t.Fatal(err)
	}
	b.waitStderr("bridge: received 1 relayed 0")
	b.interrupt()
	code := b.wait()
	stderr := b.stderr.String()
	if code != 1 || !strings.Contains(stderr, "1 messages not relayed") {
		t.Fatalf("bridge that lost a message: exit %d, stderr %s", code, stderr)
	}
	last := ""
	for _, l := range lines(stderr) {
		if strings.HasPrefix(l, "bridge: received ") {
			last = l
		}
	}
	if last != "bridge: received 1 relayed 0 dropped 0 failed 1 queued 0" {
		t.Fatalf("last status line %q, want the undelivered message counted as failed", last)
	}
	if strings.Contains(stderr, secret) {
		t.Fatalf("bridge leaks the password: %s", stderr)
	}
}

// TestOverflowFlag checks that every --overflow value names its own
// Publisher policy and that the help text lists them all.
func TestOverflowFlag(t *testing.T) {
	want := map[string]eventpub.OverflowPolicy{"drop-newest": eventpub.DropNewest, "drop-oldest": eventpub.DropOldest, "block": eventpub.Block}
	if len(overflowPolicies) != len(want) {
		t.Errorf("--overflow accepts %d values, want %d", len(overflowPolicies), len(want))
	}
	for name, p := range want {
		if got, ok := overflowPolicies[name]; !ok || got != p {
			t.Errorf("--overflow %s = %v (known %v), want %v", name, got, ok, p)
		}
	}
}
