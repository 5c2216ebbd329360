package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/transport"
)

// scrape returns the body of a GET of url.
func scrape(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return string(body)
}

// metricsURL waits for the command to say where it serves metrics.
func (p *proc) metricsURL(cmd string) string {
	p.t.Helper()
	p.waitStderr(cmd + ": metrics at ")
	m := regexp.MustCompile(cmd + `: metrics at (http://127\.0\.0\.1:\d+/metrics)\n`).FindStringSubmatch(p.stderr.String())
	if m == nil {
		p.t.Fatalf("no metrics URL on stderr: %s", p.stderr.String())
	}
	return m[1]
}

// TestBridgeMetrics runs the binary bridging miniredis to an embedded
// nats-server with --metrics-addr, relays messages and scrapes /metrics:
// the published counter carries the target's system and each channel,
// with the exact count.
func TestBridgeMetrics(t *testing.T) {
	redisURL := brokertest.StartMiniredis(t).URL()
	natsURL := brokertest.StartNATS(t).URL()
	b := startBin(t, "bridge", redisURL, natsURL, "--status-every", "50ms", "--metrics-addr", "127.0.0.1:0")
	url := b.metricsURL("bridge")
	b.waitStderr("bridge: subscribed to channels")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	src, err := transport.Open(ctx, redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	for i := range 5 {
		ch := "codeworm:events"
		if i == 4 {
			ch = "codeworm:logs"
		}
		if err := src.Publish(ctx, transport.Message{Channel: ch, Payload: []byte(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	b.waitStderr("bridge: received 5 relayed 5 dropped 0 failed 0 queued 0")
	body := scrape(t, url)
	for ch, n := range map[string]int{"codeworm:events": 4, "codeworm:logs": 1} {
		want := regexp.MustCompile(`(?m)^eventpub_messages_published_total\{[^}]*messaging_destination_name="` +
			regexp.QuoteMeta(ch) + `",messaging_operation_name="publish",messaging_operation_type="send",messaging_system="nats"[^}]*\} ` +
			fmt.Sprint(n) + `$`)
		if !want.MatchString(body) {
			t.Errorf("/metrics has no published counter of %d on %s:\n%s", n, ch, grepLines(body, "eventpub_messages_published"))
		}
	}
	timed := regexp.MustCompile(`(?m)^messaging_client_operation_duration_seconds_count\{messaging_destination_name="codeworm:events",[^}]*messaging_system="nats"[^}]*\} 4$`)
	if !timed.MatchString(body) {
		t.Errorf("/metrics has no latency histogram of 4 publishes on codeworm:events:\n%s", grepLines(body, "duration_seconds_count"))
	}
	b.interrupt()
	if code := b.wait(); code != 0 {
		t.Fatalf("bridge after SIGINT: exit %d; stderr %s", code, b.stderr.String())
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestServeMetrics runs serve on miniredis with --metrics-addr: once a
// message is relayed, /metrics shows the relay's counters with the
// broker's system.
func TestServeMetrics(t *testing.T) {
	redisURL := brokertest.StartMiniredis(t).URL()
	p := startBin(t, "serve", "--addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0", redisURL)
	url := p.metricsURL("serve")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	pub, err := transport.Open(ctx, redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	relayed := regexp.MustCompile(`(?m)^eventpub_dashboard_relayed_total\{messaging_system="redis"[^}]*\} ([1-9][0-9]*)$`)
	up := regexp.MustCompile(`(?m)^eventpub_dashboard_broker_up\{messaging_system="redis"[^}]*\} 1$`)
	for {
		// The relay subscribes in the background: publish until it relays.
		if err := pub.Publish(ctx, transport.Message{Channel: "codeworm:events", Payload: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		body := scrape(t, url)
		if relayed.MatchString(body) && up.MatchString(body) {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("/metrics shows no relayed message with the broker up:\n%s", grepLines(body, "eventpub_dashboard"))
		case <-time.After(50 * time.Millisecond):
		}
	}
	p.interrupt()
	if code := p.wait(); code != 0 {
		t.Fatalf("serve after SIGINT: exit %d; stderr %s", code, p.stderr.String())
	}
}

// TestBenchMetricsFlag: bench serves metrics while it runs, and a bad
// --metrics-addr is a usage error naming the flag.
func TestBenchMetricsFlag(t *testing.T) {
	r := runBin(t, nil, "bench", "memory://metrics", "--n", "50", "--metrics-addr", "127.0.0.1:0")
	if r.code != 0 || !regexp.MustCompile(`bench: metrics at http://127\.0\.0\.1:\d+/metrics while it runs`).MatchString(r.stderr) ||
		!strings.Contains(r.stdout, "messages  50") {
		t.Fatalf("bench --metrics-addr: exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	r = runBin(t, nil, "bridge", "memory://a", "memory://b", "--metrics-addr", "no-port")
	if r.code != 2 || !strings.Contains(r.stderr, "--metrics-addr: cannot listen on no-port") {
		t.Fatalf("bridge --metrics-addr no-port: exit %d, stderr %s", r.code, r.stderr)
	}
}
