package main

import (
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
)

// amqpURL returns the RabbitMQ to test the CLI on (EVENTPUB_AMQP_URL, else
// the default local one) with a fresh exchange that is deleted when the
// test ends, or skips when nothing listens there.
func amqpURL(t *testing.T) string {
	t.Helper()
	return brokertest.AMQPExchange(t, brokertest.RequireListening(t, brokertest.AMQPURLEnv, brokertest.AMQPDefaultURL))
}

// TestPublishThenTailAMQP publishes with the binary over amqp:// while
// another run tails, and runs bench there: the driver is registered in the
// CLI.
func TestPublishThenTailAMQP(t *testing.T) {
	url := amqpURL(t)
	ns := uniqueNamespace(t)
	tail := startBin(t, "tail", url, "--json", "--count", "2", "--timeout", "60s", "--namespace", ns)
	tail.waitStderr("tail: subscribed to channels " + ns + ":logs, " + ns + ":events, " + ns + ":stats")
	for _, args := range [][]string{
		{"event", "deployed", `{"version": "1.2.3"}`},
		{"raw", ns + ":logs", "plain text over AMQP"},
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
	for _, want := range []string{ns + ":events", `"type":"deployed"`, `"version":"1.2.3"`, ns + ":logs", "plain text over AMQP"} {
		if !strings.Contains(out, want) {
			t.Fatalf("tail output lacks %q:\n%s\nstderr: %s", want, out, tail.stderr.String())
		}
	}
	if strings.Contains(out+tail.stderr.String(), "guest:guest") {
		t.Fatalf("the CLI printed the password:\n%s", out+tail.stderr.String())
	}

	r := runBin(t, nil, "bench", url, "--n", "200", "--size", "64", "--concurrency", "4", "--channel", ns+":bench")
	if r.code != 0 || !strings.Contains(r.stdout, "messages  200") {
		t.Fatalf("bench over amqp: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
