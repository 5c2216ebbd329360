package main

import (
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
)

// TestDemo runs the demo on its default memory broker and on miniredis:
// every message of the cycle is published and tailed back.
func TestDemo(t *testing.T) {
	for _, args := range [][]string{{"demo"}, {"demo", "--url", brokertest.StartMiniredis(t).URL()}} {
		r := runBin(t, nil, args...)
		if r.code != 0 {
			t.Fatalf("eventpub %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
		}
		want := "demo: received 10 messages: 4 on codeworm:logs, 5 on codeworm:events, 1 on codeworm:stats\n"
		if !strings.HasSuffix(r.stdout, want) || strings.Count(r.stdout, `{"type":"documentation_committed"`) != 1 {
			t.Fatalf("eventpub %s printed:\n%s", strings.Join(args, " "), r.stdout)
		}
	}
}
