package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
)

// The commands open redis URLs with ?mode=streams through transport.Open:
// publish appends to the stream, tail started afterwards replays it,
// bench fills it, and bridge drains it in a consumer group.
func TestStreamsURLs(t *testing.T) {
	mr := brokertest.StartMiniredis(t)
	url := mr.URL() + "?mode=streams&maxlen=1000"
	ns := uniqueNamespace(t)

	for i := range 3 {
		r := runBin(t, nil, "publish", url, "--namespace", ns, "event", "tick", fmt.Sprintf(`{"seq": %d}`, i))
		if r.code != 0 || !strings.HasPrefix(r.stderr, "publish: sent 1 message to "+ns+":events") {
			t.Fatalf("publish: exit %d, stderr %q", r.code, r.stderr)
		}
	}
	// Started after the publishes: streams mode replays them.
	r := runBin(t, nil, "tail", url, "--json", "--count", "3", "--timeout", "20s", "--namespace", ns)
	if r.code != 0 {
		t.Fatalf("tail: exit %d, stderr %q", r.code, r.stderr)
	}
	ls := lines(r.stdout)
	if len(ls) != 3 {
		t.Fatalf("tail printed %d lines, want 3: %q", len(ls), r.stdout)
	}
	for i, l := range ls {
		var jl jsonLine
		if err := json.Unmarshal([]byte(l), &jl); err != nil || jl.Channel != ns+":events" ||
			!strings.Contains(string(jl.Payload), fmt.Sprintf(`"data":{"seq":%d}`, i)) {
			t.Fatalf("tail line %d: %q (%v)", i, l, err)
		}
	}

	r = runBin(t, nil, "bench", url, "--n", "300", "--size", "64", "--concurrency", "4", "--channel", ns+":bench")
	if r.code != 0 || !strings.Contains(r.stdout, "messages  300\n") {
		t.Fatalf("bench: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if e, err := mr.Server().Stream(ns + ":bench"); err != nil || len(e) != 300 {
		t.Fatalf("the bench stream holds %d entries (%v), want 300", len(e), err)
	}

	// bridge drains the history into NATS in a consumer group.
	natsURL := brokertest.StartNATS(t).URL()
	sub := subscribe(t, natsURL, ns+":events")
	src := url + "&group=cli&consumer=c1"
	b := startBin(t, "bridge", src, natsURL, "--namespace", ns, "--status-every", "50ms")
	for i := range 3 {
		if m := next(t, sub); !strings.Contains(string(m.Payload), fmt.Sprintf(`"seq":%d`, i)) {
			t.Fatalf("bridged message %d: %q", i, m.Payload)
		}
	}
	b.waitStderr("bridge: received 3 relayed 3 dropped 0 failed 0 queued 0")
	b.interrupt()
	if code := b.wait(); code != 0 {
		t.Fatalf("bridge after SIGINT: exit %d; stderr %s", code, b.stderr.String())
	}
	if p, err := mr.Server().Stream(ns + ":events"); err != nil || len(p) != 3 {
		t.Fatalf("the events stream: %d entries (%v)", len(p), err)
	}
}
