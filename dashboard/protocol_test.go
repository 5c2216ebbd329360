package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/memory"
)

// A CodeWorm cycle published through eventpub.Publisher arrives as frames
// whose data is the payload exactly as published (the Publisher already
// writes what orjson writes), on both WebSocket paths.
func TestFramesForCodeWormMessages(t *testing.T) {
	h, _ := startMemory(t)
	rec := memory.NewRecorder(h.t.(*memory.Transport))
	defer rec.Close()
	a := h.dial(t, "/ws", nil)
	b := h.dial(t, "/api/ws", nil)
	clock := func() time.Time { return time.Date(2026, 2, 19, 13, 29, 0, 123456000, time.Local) }
	pub := eventpub.New(h.t, eventpub.WithClock(clock), eventpub.WithKeepOpen())
	ctx := context.Background()
	steps := []func() error{
		func() error { return pub.PublishEvent(ctx, "cycle_starting", map[string]any{"cycle_num": 12}) },
		func() error {
			return pub.PublishLog(ctx, map[string]any{"event": "prompt built", "level": "debug", "tokens": 1834})
		},
		func() error {
			return pub.PublishEvent(ctx, "documentation_committed", map[string]any{"commit": "1c8540d", "repo": "CodeWorm", "time_ms": 2310.5})
		},
		func() error { return pub.PublishStats(ctx, map[string]any{"total_cycles": 12, "success_rate": 91.7}) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		`{"channel":"codeworm:events","data":{"type":"cycle_starting","timestamp":"2026-02-19T13:29:00.123456","data":{"cycle_num":12}}}`,
		`{"channel":"codeworm:logs","data":{"event":"prompt built","level":"debug","tokens":1834}}`,
		`{"channel":"codeworm:events","data":{"type":"documentation_committed","timestamp":"2026-02-19T13:29:00.123456","data":{"commit":"1c8540d","repo":"CodeWorm","time_ms":2310.5}}}`,
		`{"channel":"codeworm:stats","data":{"timestamp":"2026-02-19T13:29:00.123456","success_rate":91.7,"total_cycles":12}}`,
	}
	msgs := rec.Messages("")
	for i, w := range want {
		if got := frame(msgs[i].Channel, string(msgs[i].Payload)); got != w {
			t.Fatalf("message %d published as %s, want the frame %s", i, got, w)
		}
		for name, c := range map[string]*wsClient{"/ws": a, "/api/ws": b} {
			if got := c.next(); got != w {
				t.Errorf("%s frame %d:\n got %s\nwant %s", name, i, got, w)
			}
		}
	}
}

// Payloads orjson would not read go out as {"raw": text}.
func TestNonJSONPayloads(t *testing.T) {
	h, _ := startMemory(t)
	c := h.dial(t, "/ws", nil)
	for _, tc := range []struct{ payload, raw string }{
		{"plain text", `"plain text"`},
		{"", `""`},
		{`{"ratio": NaN}`, `"{\"ratio\": NaN}"`},
		{`[Infinity]`, `"[Infinity]"`},
		{`{"big": 1e400}`, `"{\"big\": 1e400}"`},
		{`{"a": 1,}`, `"{\"a\": 1,}"`},
		{`"\ud800"`, `"\"\\ud800\""`},
		{"caf\xe9 \x01", "\"caf\uFFFD \\u0001\""},
		{"{\"s\":\"\xff\"}", "\"{\\\"s\\\":\\\"\uFFFD\\\"}\""},
		{"\ufeff{}", "\"\ufeff{}\""},
		{"1 2", `"1 2"`},
		{strings.Repeat("[", 254) + "1" + strings.Repeat("]", 254), `"` + strings.Repeat("[", 254) + "1" + strings.Repeat("]", 254) + `"`},
	} {
		publish(t, h.t, "codeworm:logs", tc.payload)
		want := frame("codeworm:logs", `{"raw":`+tc.raw+`}`)
		got := c.next()
		mustJSON(t, got)
		if got != want {
			t.Errorf("payload %q:\n got %s\nwant %s", tc.payload, got, want)
		}
	}
}

// Member order, repeated keys, numbers and escapes come out as orjson
// writes them; arrays and scalars are sent as they parse.
func TestPayloadsRewrittenAsOrjson(t *testing.T) {
	h, _ := startMemory(t)
	c := h.dial(t, "/api/ws", nil)
	for _, tc := range []struct{ payload, data string }{
		{`{"z": 1, "a": 2, "m": {"y": true, "b": null}}`, `{"z":1,"a":2,"m":{"y":true,"b":null}}`},
		{`{"level":"info","event":"x","level":"error"}`, `{"level":"error","event":"x"}`},
		{`{"a":1,"\u0061":2,"b":3}`, `{"a":2,"b":3}`},
		{`{"price": 1.50, "n": 1E2, "tiny": 0.000001, "big": 1e16, "neg0": -0, "f0": -0.0}`, `{"price":1.5,"n":100.0,"tiny":1e-6,"big":1e16,"neg0":0,"f0":-0.0}`},
		{`{"u64": 18446744073709551615, "i64": -9223372036854775808, "huge": 100000000000000000000}`, `{"u64":18446744073709551615,"i64":-9223372036854775808,"huge":1e20}`},
		{`{"s": "caf\u00e9 \/ \u2028 \ud83d\ude00 <&> \u0007"}`, "{\"s\":\"café / \u2028 😀 <&> \\u0007\"}"},
		{`[3, "two", {"one": 1}]`, `[3,"two",{"one":1}]`},
		{`"just a string"`, `"just a string"`},
		{` 42 `, `42`},
		{`null`, `null`},
	} {
		publish(t, h.t, "codeworm:events", tc.payload)
		if got, want := c.next(), frame("codeworm:events", tc.data); got != want {
			t.Errorf("payload %s:\n got %s\nwant %s", tc.payload, got, want)
		}
	}
}

// 201 logs and events messages leave the last 200 in the history frame a
// new client receives first; stats are not kept.
func TestHistoryFrame(t *testing.T) {
	h, _ := startMemory(t)
	early := h.dial(t, "/ws", nil)
	var sent []string
	for i := range 201 {
		ch := "codeworm:logs"
		if i%3 == 0 {
			ch = "codeworm:events"
		}
		p := fmt.Sprintf(`{"event":"line %d","n":%d.50}`, i, i)
		publish(t, h.t, ch, p)
		sent = append(sent, frame(ch, fmt.Sprintf(`{"event":"line %d","n":%d.5}`, i, i)))
		if i%50 == 0 {
			publish(t, h.t, "codeworm:stats", `{"total_cycles":1}`)
		}
	}
	// The early client got no history frame, and every message live.
	for i := 0; i < 201+5; i++ {
		if f := early.next(); strings.Contains(f, "codeworm:history") {
			t.Fatalf("a client connected before any message got a history frame: %.80s", f)
		}
	}

	late := h.dial(t, "/ws", nil)
	hist := late.next()
	want := `{"channel":"codeworm:history","data":[` + strings.Join(sent[1:], ",") + `]}`
	if hist != want {
		t.Fatalf("history frame:\n got %.300s…\nwant %.300s…", hist, want)
	}
	var parsed struct {
		Channel string
		Data    []struct {
			Channel string
			Data    map[string]any
		}
	}
	if err := json.Unmarshal([]byte(hist), &parsed); err != nil {
		t.Fatal(err)
	}
	if len(parsed.Data) != 200 || parsed.Data[0].Data["event"] != "line 1" || parsed.Data[199].Data["event"] != "line 200" {
		t.Fatalf("history holds %d messages, first %v, last %v", len(parsed.Data), parsed.Data[0].Data, parsed.Data[len(parsed.Data)-1].Data)
	}
	for _, m := range parsed.Data {
		if m.Channel == "codeworm:stats" {
			t.Fatal("a stats message is in the history")
		}
	}
	// Then live frames follow, none repeated.
	publish(t, h.t, "codeworm:stats", `{"total_cycles":2}`)
	if got := late.next(); got != frame("codeworm:stats", `{"total_cycles":2}`) {
		t.Fatalf("after the history: %s", got)
	}
}

func TestPingPong(t *testing.T) {
	h, _ := startMemory(t)
	c := h.dial(t, "/ws", nil)
	c.send("ping")
	if got := c.next(); got != `{"type":"pong"}` {
		t.Fatalf("ping answered with %s", got)
	}
	c.send("PING") // only the exact text is answered, as CodeWorm's relay does
	c.send("hello")
	c.send("ping")
	if got := c.next(); got != `{"type":"pong"}` {
		t.Fatalf("the second ping was answered with %s", got)
	}
	publish(t, h.t, "codeworm:logs", `{"after":"ping"}`)
	if got := c.next(); got != frame("codeworm:logs", `{"after":"ping"}`) {
		t.Fatalf("after ping: %s", got)
	}
}

func TestNamespace(t *testing.T) {
	h, _ := startMemory(t, WithNamespace("svc"))
	publish(t, h.t, "svc:logs", `{"event":"kept"}`)
	publish(t, h.t, "codeworm:logs", `{"event":"other namespace"}`)
	publish(t, h.t, "svc:stats", `{"cpu":1}`)
	waitFor(t, "two relayed messages", func() bool { return h.relay.Stats().Relayed == 2 })
	c := h.dial(t, "/ws", nil)
	if got, want := c.next(), `{"channel":"svc:history","data":[`+frame("svc:logs", `{"event":"kept"}`)+`]}`; got != want {
		t.Fatalf("history:\n got %s\nwant %s", got, want)
	}
	publish(t, h.t, "codeworm:events", `{"type":"analyzing"}`)
	publish(t, h.t, "svc:events", `{"type":"generating"}`)
	if got, want := c.next(), frame("svc:events", `{"type":"generating"}`); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}

	// An empty namespace drops the prefix.
	h2, _ := startMemory(t, WithNamespace(""))
	publish(t, h2.t, "logs", `{"event":"bare"}`)
	waitFor(t, "one relayed message", func() bool { return h2.relay.Stats().Relayed == 1 })
	c2 := h2.dial(t, "/ws", nil)
	if got, want := c2.next(), `{"channel":"history","data":[`+frame("logs", `{"event":"bare"}`)+`]}`; got != want {
		t.Fatalf("bare history:\n got %s\nwant %s", got, want)
	}
}
