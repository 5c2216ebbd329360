package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
)

// TestBenchReportsFigures runs bench against miniredis and checks that the
// report names every figure with a plausible value.
func TestBenchReportsFigures(t *testing.T) {
	mr := brokertest.StartMiniredis(t)
	sub := subscribe(t, mr.URL(), "bench:test")
	r := runBin(t, nil, "bench", mr.URL(), "--n", "300", "--size", "64", "--concurrency", "3", "--channel", "bench:test")
	if r.code != 0 {
		t.Fatalf("bench: exit %d: %s", r.code, r.stderr)
	}
	re := regexp.MustCompile(`(?m)^bench: 300 messages of 64 bytes to bench:test on redis://[^ ]+, concurrency 3, sync
messages  300
elapsed   [0-9.]+(µs|ms|s)
msgs/s    [1-9][0-9]*
MB/s      [0-9]+\.[0-9]{2}
latency   p50 [0-9.]+(ns|µs|ms|s)  p90 [0-9.]+(ns|µs|ms|s)  p99 [0-9.]+(ns|µs|ms|s)  max [0-9.]+(ns|µs|ms|s)
$`)
	if !re.MatchString(r.stdout) {
		t.Fatalf("bench output:\n%s", r.stdout)
	}
	// stderr is not a terminal here: plain progress lines only, no bar.
	if strings.Contains(r.stderr, "\r") || strings.Contains(r.stderr, "[=") {
		t.Errorf("progress bar drawn on a non-terminal: %q", r.stderr)
	}
	// Every message reached the broker, with the payload size asked for.
	m := next(t, sub)
	if len(m.Payload) != 64 || !json.Valid(m.Payload) || !strings.HasPrefix(string(m.Payload), `{"seq":"`) {
		t.Errorf("bench payload %q", m.Payload)
	}
}

func TestBenchAsync(t *testing.T) {
	url := brokertest.StartMiniredis(t).URL()
	r := runBin(t, nil, "bench", url, "--n", "500", "--async")
	if r.code != 0 {
		t.Fatalf("bench --async: exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"concurrency 1, async\n", "messages  500\n", "msgs/s ", "MB/s ", "latency   not measured with --async"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("bench --async output lacks %q:\n%s", want, r.stdout)
		}
	}
}

// TestBenchBrokerDown fails with one line when the broker goes away.
func TestBenchBrokerDown(t *testing.T) {
	mr := brokertest.StartMiniredis(t)
	url := mr.URL()
	mr.Stop()
	r := runBin(t, nil, "bench", url, "--n", "10")
	oneLineError(t, r, 1, "eventpub bench: ", "cannot reach", url)
}
