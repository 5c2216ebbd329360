package main

import (
	"context"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
)

// mqttURL is EVENTPUB_MQTT_URL, or Mosquitto on 127.0.0.1:1883 when it
// answers; the test is skipped when no MQTT server listens (MQTT has no
// in-process server).
func mqttURL(t *testing.T) string {
	t.Helper()
	return brokertest.RequireListening(t, brokertest.MQTTURLEnv, brokertest.MQTTDefaultURL)
}

// TestBridgeRedisToMQTT runs `eventpub bridge redis://… mqtt://…` from
// miniredis to the MQTT server: an MQTT subscriber gets each message on
// the same channel (an MQTT topic as-is, colons and all) with the exact
// bytes, and the status line counts them.
func TestBridgeRedisToMQTT(t *testing.T) {
	mqttURL := mqttURL(t)
	redisURL := brokertest.StartMiniredis(t).URL()
	ns := uniqueNamespace(t)
	events, logs := ns+":events", ns+":logs"
	sub := subscribe(t, mqttURL, events, logs)

	b := startBin(t, "bridge", redisURL, mqttURL, events, logs, "--status-every", "50ms")
	b.waitStderr("bridge: subscribed to channels " + events + ", " + logs + " on " + redisURL + ", relaying to " + mqttURL)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src, err := transport.Open(ctx, redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	payloads := []transport.Message{
		{Channel: events, Payload: []byte(`{"type":"documentation_committed","timestamp":"2026-02-19T13:29:00.123456","data":{"time_ms":2310.5,"note":"<é>\u2028"}}`)},
		{Channel: logs, Payload: []byte("not JSON \x00\xff bytes")},
		{Channel: logs, Payload: []byte{}},
	}
	for _, m := range payloads {
		if err := src.Publish(ctx, m); err != nil {
			t.Fatal(err)
		}
		got := next(t, sub)
		if got.Channel != m.Channel || string(got.Payload) != string(m.Payload) {
			t.Fatalf("MQTT got %s %q, want %s %q", got.Channel, got.Payload, m.Channel, m.Payload)
		}
	}
	b.waitStderr("bridge: received 3 relayed 3 dropped 0 failed 0 queued 0")
	b.interrupt()
	if code := b.wait(); code != 0 {
		t.Fatalf("bridge after SIGINT: exit %d; stderr %s", code, b.stderr.String())
	}
}
