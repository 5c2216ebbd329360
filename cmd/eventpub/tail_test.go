package main

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
)

// tsRE matches a CodeWorm timestamp field: isoformat(), local, no offset.
var tsRE = regexp.MustCompile(`"timestamp":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?"`)

// maskTimestamp replaces the first timestamp field, failing the test when
// there is none.
func maskTimestamp(t *testing.T, payload string) string {
	t.Helper()
	loc := tsRE.FindStringIndex(payload)
	if loc == nil {
		t.Fatalf("payload has no CodeWorm timestamp: %s", payload)
	}
	return payload[:loc[0]] + `"timestamp":"T"` + payload[loc[1]:]
}

// jsonLine is one line of tail --json, with the payload kept as bytes.
type jsonLine struct {
	Channel string          `json:"channel"`
	Time    string          `json:"time"`
	Payload json.RawMessage `json:"payload"`
}

// TestPublishThenTail publishes an event, a log line, stats and a raw
// message with the binary while another run of the binary tails them with
// --json, on every broker the machine has.
func TestPublishThenTail(t *testing.T) {
	for _, b := range brokers(t) {
		t.Run(b.name, func(t *testing.T) {
			ns := uniqueNamespace(t)
			tail := startBin(t, "tail", b.url, "--json", "--count", "4", "--timeout", "60s", "--namespace", ns)
			tail.waitStderr("tail: subscribed to channels " + ns + ":logs, " + ns + ":events, " + ns + ":stats")

			for _, args := range [][]string{
				{"event", "cycle_starting", `{"cycle_num": 12, "ratio": 0.5, "repo": "CodeWorm <&>"}`},
				{"log", `{"event": "cycle starting", "level": "info", "tokens": 1834, "ok": true}`},
				{"stats", `{"total_cycles": 12, "success_rate": 91.7, "by_repo": {"b": 2, "a": 1}}`},
				{"raw", ns + ":logs", "plain text, not JSON"},
			} {
				r := runBin(t, nil, append([]string{"publish", b.url, "--namespace", ns}, args...)...)
				if r.code != 0 || !strings.HasPrefix(r.stderr, "publish: sent 1 message to "+ns+":") {
					t.Fatalf("publish %s: exit %d, stderr %q", args[0], r.code, r.stderr)
				}
			}
			if code := tail.wait(); code != 0 {
				t.Fatalf("tail exit %d; stderr %q", code, tail.stderr.String())
			}
			got := map[string][]string{}
			for _, l := range lines(tail.stdout.String()) {
				var jl jsonLine
				if err := json.Unmarshal([]byte(l), &jl); err != nil {
					t.Fatalf("tail --json line is not JSON: %q: %v", l, err)
				}
				if _, err := time.Parse(time.RFC3339Nano, jl.Time); err != nil {
					t.Errorf("time %q is not RFC 3339: %v", jl.Time, err)
				}
				got[jl.Channel] = append(got[jl.Channel], string(jl.Payload))
			}
			want := map[string][]string{
				ns + ":events": {`{"type":"cycle_starting","timestamp":"T","data":{"cycle_num":12,"ratio":0.5,"repo":"CodeWorm <&>"}}`},
				ns + ":logs":   {`{"event":"cycle starting","level":"info","ok":true,"tokens":1834}`, `"plain text, not JSON"`},
				ns + ":stats":  {`{"timestamp":"T","by_repo":{"a":1,"b":2},"success_rate":91.7,"total_cycles":12}`},
			}
			got[ns+":events"][0] = maskTimestamp(t, got[ns+":events"][0])
			got[ns+":stats"][0] = maskTimestamp(t, got[ns+":stats"][0])
			for ch, w := range want {
				if strings.Join(got[ch], "\n") != strings.Join(w, "\n") {
					t.Errorf("%s: got\n%s\nwant\n%s", ch, strings.Join(got[ch], "\n"), strings.Join(w, "\n"))
				}
			}
			if len(got) != len(want) {
				t.Errorf("messages on unexpected channels: %v", got)
			}
		})
	}
}

// TestTailHumanForm checks the default output: a time and channel line,
// then the payload indented by two spaces.
func TestTailHumanForm(t *testing.T) {
	url := brokertest.StartMiniredis(t).URL()
	tail := startBin(t, "tail", url, "--count", "2", "--timeout", "60s")
	tail.waitStderr("tail: subscribed to")
	if r := runBin(t, nil, "publish", url, "log", `{"level":"info","nested":{"k":[1,2.5]}}`); r.code != 0 {
		t.Fatalf("publish: %q", r.stderr)
	}
	if r := runBin(t, nil, "publish", url, "raw", "codeworm:stats", "just text"); r.code != 0 {
		t.Fatalf("publish: %q", r.stderr)
	}
	if code := tail.wait(); code != 0 {
		t.Fatalf("tail exit %d: %s", code, tail.stderr.String())
	}
	out := tail.stdout.String()
	re := regexp.MustCompile(`^\d\d:\d\d:\d\d\.\d{3} codeworm:logs\n` + regexp.QuoteMeta(`{
  "level": "info",
  "nested": {
    "k": [
      1,
      2.5
    ]
  }
}
`) + `\d\d:\d\d:\d\d\.\d{3} codeworm:stats\njust text\n$`)
	if !re.MatchString(out) {
		t.Fatalf("tail output:\n%s", out)
	}
}

func TestTailPattern(t *testing.T) {
	url := brokertest.StartMiniredis(t).URL()
	ns := uniqueNamespace(t)
	tail := startBin(t, "tail", url, "--pattern", ns+":*", "--json", "--count", "1", "--timeout", "60s")
	tail.waitStderr("tail: subscribed to patterns " + ns + ":*")
	if r := runBin(t, nil, "publish", url, "raw", ns+":anything", `{"x":1}`); r.code != 0 {
		t.Fatalf("publish: %q", r.stderr)
	}
	if code := tail.wait(); code != 0 {
		t.Fatalf("tail exit %d: %s", code, tail.stderr.String())
	}
	var jl jsonLine
	if err := json.Unmarshal([]byte(tail.stdout.String()), &jl); err != nil || jl.Channel != ns+":anything" || string(jl.Payload) != `{"x":1}` {
		t.Fatalf("tail --pattern printed %q (%v)", tail.stdout.String(), err)
	}
}

func TestTailTimeout(t *testing.T) {
	url := brokertest.StartMiniredis(t).URL()
	r := runBin(t, nil, "tail", url, "--count", "1", "--timeout", "300ms")
	oneLineErrorAfterSubscribe(t, r, "timed out after 300ms with 0 of 1 messages")
	r = runBin(t, nil, "tail", url, "--timeout", "300ms")
	if r.code != 0 || r.stdout != "" {
		t.Fatalf("tail --timeout without --count: exit %d, stdout %q", r.code, r.stdout)
	}
}

// oneLineErrorAfterSubscribe checks a tail that subscribed and then failed.
func oneLineErrorAfterSubscribe(t *testing.T, r result, want string) {
	t.Helper()
	ls := lines(r.stderr)
	if r.code != 1 || len(ls) != 2 || !strings.HasPrefix(ls[0], "tail: subscribed") || !strings.Contains(ls[1], want) {
		t.Fatalf("exit %d, stderr %q; want subscribed, then %q", r.code, r.stderr, want)
	}
}

func TestTailInterruptExits130(t *testing.T) {
	url := brokertest.StartMiniredis(t).URL()
	tail := startBin(t, "tail", url)
	tail.waitStderr("tail: subscribed to")
	tail.interrupt()
	if code := tail.wait(); code != 130 {
		t.Fatalf("tail after SIGINT: exit %d, want 130; stderr %q", code, tail.stderr.String())
	}
	if !strings.Contains(tail.stderr.String(), "eventpub tail: interrupted after 0 messages; unsubscribed\n") {
		t.Fatalf("tail after SIGINT does not say so: %q", tail.stderr.String())
	}
}

// TestPublishThenTailInProcess runs tail and publish in this process.
func TestPublishThenTailInProcess(t *testing.T) {
	url := brokertest.StartMiniredis(t).URL()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int)
	go func() { done <- run(ctx, []string{"tail", "--json", "--count", "2", url}, &out, &errb) }()
	for !strings.Contains(errb.String(), "tail: subscribed to channels codeworm:logs") {
		select {
		case code := <-done:
			t.Fatalf("tail ended with %d: %s", code, errb.String())
		case <-time.After(5 * time.Millisecond):
		}
	}
	var perr bytes.Buffer
	if code := run(ctx, []string{"publish", url, "event", "analyzing", `{"files":48}`}, &perr, &perr); code != 0 {
		t.Fatalf("publish event: %s", perr.String())
	}
	if code := run(ctx, []string{"publish", url, "--quiet", "log", `{"event":"x","n":-7}`}, &perr, &perr); code != 0 {
		t.Fatalf("publish log: %s", perr.String())
	}
	if code := <-done; code != 0 {
		t.Fatalf("tail exit %d: %s", code, errb.String())
	}
	if strings.Count(perr.String(), "\n") != 1 {
		t.Errorf("--quiet still printed: %q", perr.String())
	}
	ls := lines(out.String())
	if len(ls) != 2 {
		t.Fatalf("tail printed %d lines: %q", len(ls), out.String())
	}
	var ev, lg jsonLine
	if json.Unmarshal([]byte(ls[0]), &ev) != nil || json.Unmarshal([]byte(ls[1]), &lg) != nil {
		t.Fatalf("not JSON lines: %q", out.String())
	}
	if ev.Channel != "codeworm:events" || maskTimestamp(t, string(ev.Payload)) != `{"type":"analyzing","timestamp":"T","data":{"files":48}}` {
		t.Errorf("event line %q", ls[0])
	}
	if lg.Channel != "codeworm:logs" || string(lg.Payload) != `{"event":"x","n":-7}` {
		t.Errorf("log line %q", ls[1])
	}
}
