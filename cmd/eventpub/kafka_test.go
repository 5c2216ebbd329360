package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/kafkatest"
	"github.com/eventpub/eventpub/transport"
)

// TestKafkaPublishTailBench runs publish, tail and bench against a 3-broker
// kfake cluster given as a kafka:// URL.
func TestKafkaPublishTailBench(t *testing.T) {
	url := kafkatest.Start(t, kafkatest.Options{Brokers: 3}).URL()
	ns := uniqueNamespace(t)
	tail := startBin(t, "tail", url, "--json", "--count", "2", "--timeout", "60s", "--namespace", ns)
	tail.waitStderr("tail: subscribed to channels " + ns + ":logs, " + ns + ":events, " + ns + ":stats")
	for _, args := range [][]string{
		{"event", "cycle_starting", `{"cycle_num": 12}`},
		{"raw", ns + ":logs", "plain text"},
	} {
		r := runBin(t, nil, append([]string{"publish", url, "--namespace", ns}, args...)...)
		if r.code != 0 || !strings.HasPrefix(r.stderr, "publish: sent 1 message to "+ns+":") {
			t.Fatalf("publish %s: exit %d, stderr %q", args[0], r.code, r.stderr)
		}
	}
	if code := tail.wait(); code != 0 {
		t.Fatalf("tail exit %d; stderr %q", code, tail.stderr.String())
	}
	out := tail.stdout.String()
	for _, want := range []string{`"channel":"` + ns + `:events"`, `{"type":"cycle_starting","timestamp":"`, `"data":{"cycle_num":12}}`, `"payload":"plain text"`} {
		if !strings.Contains(out, want) {
			t.Errorf("tail output lacks %s:\n%s", want, out)
		}
	}

	r := runBin(t, nil, "bench", url, "--n", "300", "--size", "64", "--concurrency", "3", "--channel", ns+":bench")
	if r.code != 0 || !strings.Contains(r.stdout, "messages  300\n") || !strings.Contains(r.stdout, " on kafka://") {
		t.Fatalf("bench: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestBridgeRedisToKafka runs the binary bridging miniredis to kfake:
// what is published on Redis arrives on Kafka with the same bytes.
func TestBridgeRedisToKafka(t *testing.T) {
	redisURL := brokertest.StartMiniredis(t).URL()
	kafkaURL := kafkatest.Start(t, kafkatest.Options{Brokers: 3}).URL()
	sub := subscribe(t, kafkaURL, "codeworm:events", "codeworm:logs")

	b := startBin(t, "bridge", redisURL, kafkaURL, "--status-every", "50ms")
	b.waitStderr("bridge: subscribed to channels codeworm:logs, codeworm:events, codeworm:stats on " + redisURL + ", relaying to " + kafkaURL)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src, err := transport.Open(ctx, redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	msgs := []transport.Message{
		{Channel: "codeworm:events", Payload: []byte(`{"type":"documentation_committed","data":{"note":"<é>"}}`)},
		{Channel: "codeworm:logs", Payload: []byte("not JSON \x00\xff bytes")},
	}
	for _, m := range msgs {
		if err := src.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
		got := next(t, sub)
		if got.Channel != m.Channel || string(got.Payload) != string(m.Payload) {
			t.Fatalf("Kafka got %s %q, want %s %q", got.Channel, got.Payload, m.Channel, m.Payload)
		}
	}
	b.waitStderr("bridge: received 2 relayed 2 dropped 0 failed 0 queued 0")
	b.interrupt()
	if code := b.wait(); code != 0 {
		t.Fatalf("bridge after SIGINT: exit %d; stderr %s", code, b.stderr.String())
	}
}
