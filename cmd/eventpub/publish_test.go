package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/internal/vectors"
)

// TestPublishVectors publishes every input recorded from CodeWorm's own
// publisher with the binary and checks the bytes on the wire are the ones
// CodeWorm sent (all but the timestamp, which is the clock at publish time).
// Log vectors go through --stdin in one run.
func TestPublishVectors(t *testing.T) {
	vs, err := vectors.Load()
	if err != nil {
		t.Fatalf("load vectors: %v", err)
	}
	url := brokertest.StartMiniredis(t).URL()
	sub := subscribe(t, url, "codeworm:logs", "codeworm:events", "codeworm:stats")

	var stdin bytes.Buffer
	var logs []vectors.Vector
	for _, v := range vs {
		if v.Method != "log" {
			continue
		}
		var line bytes.Buffer
		if err := json.Compact(&line, []byte(v.Input)); err != nil {
			t.Fatalf("vector %s: %v", v.Name, err)
		}
		stdin.Write(line.Bytes())
		stdin.WriteByte('\n')
		logs = append(logs, v)
	}
	if len(logs) == 0 {
		t.Fatal("no log vectors")
	}
	r := runBin(t, &stdin, "publish", url, "log", "--stdin")
	if r.code != 0 {
		t.Fatalf("publish log --stdin: exit %d: %s", r.code, r.stderr)
	}
	for _, v := range logs {
		m := next(t, sub)
		if m.Channel != v.Channel || string(m.Payload) != v.Payload {
			t.Errorf("vector %s: got %s %s\nwant %s %s", v.Name, m.Channel, m.Payload, v.Channel, v.Payload)
		}
	}

	others := 0
	for _, v := range vs {
		var args []string
		switch v.Method {
		case "event":
			args = []string{"publish", url, "event", v.EventType, v.Input}
		case "stats":
			args = []string{"publish", url, "stats", v.Input}
		default:
			continue
		}
		others++
		if r := runBin(t, nil, args...); r.code != 0 {
			t.Fatalf("vector %s: exit %d: %s", v.Name, r.code, r.stderr)
		}
		m := next(t, sub)
		got, want := string(m.Payload), v.Payload
		if v.Method == "event" || !strings.Contains(v.Input, `"timestamp"`) {
			got, want = maskTimestamp(t, got), maskTimestamp(t, want)
		}
		if m.Channel != v.Channel || got != want {
			t.Errorf("vector %s: got %s %s\nwant %s %s", v.Name, m.Channel, got, v.Channel, want)
		}
	}
	if others == 0 {
		t.Fatal("no event or stats vectors")
	}
}

// TestPublishRawStdin sends each line as it is, CRLF endings removed and
// blank lines skipped, and the last line even without a newline.
func TestPublishRawStdin(t *testing.T) {
	url := brokertest.StartMiniredis(t).URL()
	sub := subscribe(t, url, "raw:chan")
	in := "first line\r\n\n  second, with spaces  \nnot {json\nlast"
	r := runBin(t, strings.NewReader(in), "publish", url, "raw", "raw:chan", "--stdin")
	if r.code != 0 || r.stderr != "publish: sent 4 messages to raw:chan on "+url+"\n" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"first line", "  second, with spaces  ", "not {json", "last"} {
		if m := next(t, sub); string(m.Payload) != want {
			t.Errorf("got %q, want %q", m.Payload, want)
		}
	}
}

// TestPublishEventNoData sends {} as data when no JSON is given, and puts
// the namespace and --utc into effect.
func TestPublishEventNoData(t *testing.T) {
	url := brokertest.StartMiniredis(t).URL()
	sub := subscribe(t, url, "other:events")
	r := runBin(t, nil, "publish", "--namespace", "other", "--utc", url, "event", "cycle_complete")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	m := next(t, sub)
	var env struct {
		Type      string
		Timestamp string
		Data      map[string]any
	}
	if err := json.Unmarshal(m.Payload, &env); err != nil {
		t.Fatalf("payload %s: %v", m.Payload, err)
	}
	if env.Type != "cycle_complete" || env.Data == nil || len(env.Data) != 0 || !strings.HasSuffix(env.Timestamp, "+00:00") {
		t.Fatalf("payload %s", m.Payload)
	}
}
