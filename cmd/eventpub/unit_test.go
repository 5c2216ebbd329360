package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"math"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventpub/eventpub/transport"
)

func TestDecodeObjectNumbers(t *testing.T) {
	m, err := decodeObject([]byte(`{"i": 12, "f": 2.0, "e": 1e3, "E": 5E-1, "neg": -9223372036854775808,
		"u": 18446744073709551615, "nested": {"list": [1, 1.5, {"x": 7}]}, "s": "1", "n": null, "b": true}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"i": int64(12), "f": 2.0, "e": 1000.0, "E": 0.5, "neg": int64(math.MinInt64),
		"u": uint64(math.MaxUint64), "s": "1", "n": nil, "b": true}
	for k, w := range want {
		if m[k] != w {
			t.Errorf("%s = %#v (%T), want %#v (%T)", k, m[k], m[k], w, w)
		}
	}
	list := m["nested"].(map[string]any)["list"].([]any)
	if list[0] != int64(1) || list[1] != 1.5 || list[2].(map[string]any)["x"] != int64(7) {
		t.Errorf("nested = %#v", list)
	}
	for _, empty := range []string{"", "  ", "null", " null \n"} {
		if m, err := decodeObject([]byte(empty)); err != nil || m != nil {
			t.Errorf("decodeObject(%q) = %v, %v; want nil, nil", empty, m, err)
		}
	}
}

func TestDecodeObjectErrors(t *testing.T) {
	cases := map[string]string{
		`{"a":`:                        "input ends after",
		`{"a" 1}`:                      "malformed JSON at byte",
		`"text"`:                       "got a string",
		`[1]`:                          "got an array",
		`42`:                           "got a number",
		`true`:                         "got a boolean",
		`{} {}`:                        "unexpected data after the object",
		`{}x`:                          "unexpected data after the object",
		`{"n": -99999999999999999999}`: "does not fit in 64 bits",
		`{"f": 1e400}`:                 "out of the float64 range",
	}
	for in, want := range cases {
		_, err := decodeObject([]byte(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("decodeObject(%q) = %v, want an error containing %q", in, err, want)
		}
	}
}

func TestParseArgsInterspersed(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	j := fs.Bool("json", false, "")
	n := fs.Int("count", 0, "")
	pos, err := parseArgs(fs, []string{"redis://h", "--json", "a", "--count", "3", "b", "--", "--c", "-d"})
	if err != nil {
		t.Fatal(err)
	}
	if !*j || *n != 3 || strings.Join(pos, " ") != "redis://h a b --c -d" {
		t.Fatalf("json=%v count=%d pos=%q", *j, *n, pos)
	}
	var ue usageError
	if _, err := parseArgs(fs, []string{"a", "--nope"}); !errors.As(err, &ue) || err.Error() != "unknown flag --nope" {
		t.Fatalf("unknown flag after an argument: %v, want the usage error \"unknown flag --nope\"", err)
	}
}

func TestDefaultChannels(t *testing.T) {
	if got := strings.Join(defaultChannels("codeworm"), " "); got != "codeworm:logs codeworm:events codeworm:stats" {
		t.Errorf("codeworm: %s", got)
	}
	if got := strings.Join(defaultChannels(""), " "); got != "logs events stats" {
		t.Errorf("no namespace: %s", got)
	}
}

func TestWriteJSONLine(t *testing.T) {
	at := time.Date(2026, 2, 19, 13, 29, 0, 123456789, time.UTC)
	cases := []struct {
		msg  transport.Message
		want string
	}{
		{transport.Message{Channel: "c", Payload: []byte(`{"a": [1, 2.50], "h": "<&>"}`)},
			`{"channel":"c","time":"2026-02-19T13:29:00.123456789Z","payload":{"a":[1,2.50],"h":"<&>"}}`},
		{transport.Message{Channel: "c", Payload: []byte("plain <text>")},
			`{"channel":"c","time":"2026-02-19T13:29:00.123456789Z","payload":"plain <text>"}`},
		{transport.Message{Channel: "c"},
			`{"channel":"c","time":"2026-02-19T13:29:00.123456789Z","payload":""}`},
		{transport.Message{Channel: "c", Payload: []byte{0xff, 0x00}, Header: map[string]string{"k": "v"}},
			`{"channel":"c","time":"2026-02-19T13:29:00.123456789Z","header":{"k":"v"},"payload_base64":"/wA="}`},
	}
	for _, c := range cases {
		var b bytes.Buffer
		if err := writeJSONLine(&b, c.msg, at); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want+"\n" {
			t.Errorf("got  %s\nwant %s", b.String(), c.want)
		}
	}
}

func TestWriteHuman(t *testing.T) {
	at := time.Date(2026, 2, 19, 13, 29, 0, 123456789, time.UTC)
	var b bytes.Buffer
	msgs := []transport.Message{
		{Channel: "codeworm:logs", Payload: []byte(`{"a":{"b":1}}`), Header: map[string]string{"z": "1", "a": "2"}},
		{Channel: "raw", Payload: []byte{'x', 0xff}},
	}
	for _, m := range msgs {
		if err := writeHuman(&b, m, at); err != nil {
			t.Fatal(err)
		}
	}
	want := "13:29:00.123 codeworm:logs a=2 z=1\n{\n  \"a\": {\n    \"b\": 1\n  }\n}\n13:29:00.123 raw\n\"x\\xff\"\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

func TestBenchPayloadAndSeq(t *testing.T) {
	for _, size := range []int{32, 180, 1000} {
		p := benchPayload(size)
		if len(p) != size || !json.Valid(p) {
			t.Fatalf("benchPayload(%d) = %q (%d bytes)", size, p, len(p))
		}
		stampSeq(p, 4321)
		var v struct{ Seq string }
		if err := json.Unmarshal(p, &v); err != nil || v.Seq != "0000004321" || len(p) != size {
			t.Fatalf("after stampSeq: %q (%v)", p, err)
		}
	}
}

func TestPercentile(t *testing.T) {
	d := make([]time.Duration, 100)
	for i := range d {
		d[i] = time.Duration(i+1) * time.Millisecond
	}
	for p, want := range map[int]time.Duration{50: 50 * time.Millisecond, 90: 90 * time.Millisecond, 99: 99 * time.Millisecond, 100: 100 * time.Millisecond} {
		if got := percentile(d, p); got != want {
			t.Errorf("p%d = %v, want %v", p, got, want)
		}
	}
	if got := percentile([]time.Duration{7}, 50); got != 7 {
		t.Errorf("p50 of one = %v", got)
	}
	if got := fmtDur(1234567 * time.Nanosecond); got != "1.23ms" {
		t.Errorf("fmtDur = %s", got)
	}
}

func TestProgressBarOnTerminal(t *testing.T) {
	var out syncBuffer
	var done atomic.Int64
	done.Store(50)
	p := startProgress(&out, true, 100, &done)
	time.Sleep(150 * time.Millisecond)
	done.Store(100)
	p.stop()
	s := out.String()
	re := regexp.MustCompile(`^(\r\[={15}> {14}\]  50% 50/100 \d+ msgs/s\x1b\[K)+\r\[={30}\] 100% 100/100 \d+ msgs/s\x1b\[K\n$`)
	if !re.MatchString(s) {
		t.Errorf("progress output %q", s)
	}
}

func TestErrorReporterLimitsRate(t *testing.T) {
	var out syncBuffer
	r := newErrorReporter(&lockedWriter{w: &out})
	for i := 0; i < 5; i++ {
		r.report(transport.ErrUnavailable)
	}
	r.mu.Lock()
	r.last = time.Time{} // as if the period had passed
	r.mu.Unlock()
	r.report(transport.ErrUnavailable)
	got := lines(out.String())
	if len(got) != 2 || !strings.Contains(got[1], "(4 more errors since the last one shown)") {
		t.Fatalf("reporter printed %q", out.String())
	}
}

func BenchmarkWriteJSONLine(b *testing.B) {
	m := transport.Message{Channel: "codeworm:events", Payload: []byte(`{"type":"documentation_committed","timestamp":"2026-02-19T13:29:00.123456","data":{"commit":"1c8540d","doc_type":"class","time_ms":2310.5,"tokens":1834}}`)}
	at := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		if err := writeJSONLine(io.Discard, m, at); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeObject(b *testing.B) {
	in := []byte(`{"commit":"1c8540d","doc_type":"class","language":"python","time_ms":2310.5,"tokens":1834,"by_repo":{"a":7,"b":4}}`)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := decodeObject(in); err != nil {
			b.Fatal(err)
		}
	}
}
