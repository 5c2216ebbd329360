package jsonenc

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// The expected outputs were produced by orjson.dumps(orjson.loads(in)).
var reencodeVectors = []struct{ in, want string }{
	{`{"b":1,"a":2}`, `{"b":1,"a":2}`},
	{` { "a" : [ 1 , 2 ] } `, `{"a":[1,2]}`},
	{`{"a":1,"b":2,"a":3}`, `{"a":3,"b":2}`},
	{`{"a":1,"\u0061":2}`, `{"a":2}`},
	{`{"x":{"k":1,"k":{"k":2,"k":3}},"y":0,"x":{"z":1}}`, `{"x":{"z":1},"y":0}`},
	{`"\u00e9\/"`, `"é/"`},
	{`"\ud83d\ude00 \u2028 \u007f \u0001 \u001F"`, "\"😀 \u2028 \x7f \\u0001 \\u001f\""},
	{`"<>&\"\\\b\f\n\r\t"`, `"<>&\"\\\b\f\n\r\t"`},
	{`1.50`, `1.5`},
	{`1E2`, `100.0`},
	{`0.1e1`, `1.0`},
	{`-0`, `0`},
	{`[-0]`, `[0]`},
	{`-0.0`, `-0.0`},
	{`0e5`, `0.0`},
	{`-0e5`, `-0.0`},
	{`1e-400`, `0.0`},
	{`-1e-400`, `-0.0`},
	{`2.5e-324`, `5e-324`},
	{`1e16`, `1e16`},
	{`1e15`, `1000000000000000.0`},
	{`0.00001`, `0.00001`},
	{`0.000001`, `1e-6`},
	{`123456.789e3`, `123456789.0`},
	{`9007199254740993.0`, `9007199254740992.0`},
	{`18446744073709551615`, `18446744073709551615`},
	{`-9223372036854775808`, `-9223372036854775808`},
	{`18446744073709551616`, `1.8446744073709552e19`},
	{`-9223372036854775809`, `-9.223372036854776e18`},
	{`-10000000000000000000`, `-1e19`},
	{`100000000000000000000`, `1e20`},
	{`123456789012345678901234567890`, `1.2345678901234568e29`},
	{`[true,false,null,{},[]]`, `[true,false,null,{},[]]`},
}

func TestReencodeVectors(t *testing.T) {
	for _, v := range reencodeVectors {
		got, err := Reencode([]byte("prefix:"), []byte(v.in), 0)
		if err != nil {
			t.Errorf("Reencode(%s): %v", v.in, err)
			continue
		}
		if want := "prefix:" + v.want; string(got) != want {
			t.Errorf("Reencode(%s) = %s, want %s", v.in, got, want)
		}
	}
}

// Every one of these makes orjson.loads raise.
var reencodeRefused = []string{
	``, ` `, `NaN`, `[Infinity]`, `-Infinity`, `[1,]`, `{"a":1,}`, `1 2`, `01`, `1.`, `.5`, `1e`, `+1`,
	`"\ud800"`, `"\udc00"`, `"\ud800\u0041"`, "\"\x01\"", "\"\xff\"", "\"\xed\xa0\x80\"", "\ufeff{}",
	`1e400`, `[1e309]`, `-1e309`, `1` + strings.Repeat("0", 400), `1.7976931348623159e308`,
	`{a:1}`, `{"a" 1}`, `[1 2]`, `tru`, `nul`, `"abc`, `"\x"`, `"\u12"`, `[`, `{`, `{"a":}`,
}

func TestReencodeRefuses(t *testing.T) {
	for _, in := range reencodeRefused {
		got, err := Reencode([]byte("keep"), []byte(in), 0)
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("Reencode(%q) = %q, %v; want a *SyntaxError", in, got, err)
			continue
		}
		if string(got) != "keep" {
			t.Errorf("Reencode(%q) changed dst to %q", in, got)
		}
		if !strings.HasPrefix(err.Error(), "eventpub/jsonenc: ") || se.Offset < 0 || se.Offset > len(in) {
			t.Errorf("Reencode(%q) error %q (offset %d)", in, err, se.Offset)
		}
	}
}

func TestReencodeDepthLimits(t *testing.T) {
	nest := func(n int, inner string) []byte {
		return []byte(strings.Repeat("[", n) + inner + strings.Repeat("]", n))
	}
	for _, c := range []struct {
		doc       []byte
		enclosing int
		ok        bool
	}{
		// orjson.loads: at most 1024 nested containers.
		{nest(1024, ""), 0, false}, // too deep to write back
		{nest(253, "1"), 1, true},  // level 254 inside one enclosing
		{nest(254, "1"), 1, false}, // a non-empty array at level 255
		{nest(254, ""), 1, true},   // an empty one is written
		{nest(254, "1"), 0, true},  // the same document on its own
		{[]byte(strings.Repeat(`{"k":`, 254) + "1" + strings.Repeat("}", 254)), 1, false},
	} {
		_, err := Reencode(nil, c.doc, c.enclosing)
		if (err == nil) != c.ok {
			t.Errorf("depth %d enclosing %d: err %v, want ok=%v", bytes.Count(c.doc, []byte("[")), c.enclosing, err, c.ok)
		}
	}
	if _, err := Reencode(nil, nest(1025, ""), -2000); err == nil {
		t.Error("1025 nested arrays were accepted")
	}
	if _, err := Reencode(nil, nest(1024, ""), -2000); err != nil {
		t.Errorf("1024 nested arrays: %v", err)
	}
}

// FuzzReencode checks that what Reencode writes is valid JSON that it
// writes again unchanged, and that what encoding/json refuses it refuses.
func FuzzReencode(f *testing.F) {
	for _, v := range reencodeVectors {
		f.Add([]byte(v.in))
	}
	for _, in := range reencodeRefused {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		out, err := Reencode(nil, in, 1)
		if err != nil {
			return
		}
		if !json.Valid(in) {
			t.Fatalf("accepted %q, which encoding/json refuses", in)
		}
		if !json.Valid(out) {
			t.Fatalf("%q gave invalid JSON %q", in, out)
		}
		again, err := Reencode(nil, out, 1)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("%q gave %q, which re-encodes to %q, %v", in, out, again, err)
		}
	})
}

// BenchmarkReencode compares Reencode with what a relay written with
// encoding/json would do instead (Unmarshal into any, Marshal again, which
// also loses the member order).
func BenchmarkReencode(b *testing.B) {
	in := []byte(`{"type":"documentation_committed","timestamp":"2026-02-19T13:29:00.123456","data":{"commit":"1c8540d","repo":"CodeWorm","time_ms":2310.5,"tokens":1834,"note":"caf\u00e9"}}`)
	b.Run("jsonenc", func(b *testing.B) {
		var dst []byte
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if dst, err = Reencode(dst[:0], in, 1); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var v any
			if err := json.Unmarshal(in, &v); err != nil {
				b.Fatal(err)
			}
			if _, err := json.Marshal(v); err != nil {
				b.Fatal(err)
			}
		}
	})
}
