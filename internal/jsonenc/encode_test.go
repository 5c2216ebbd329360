package jsonenc

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"unicode/utf8"
)

type encCase struct {
	name string
	in   any
	want string
}

func runCases(t *testing.T, cases []encCase) {
	t.Helper()
	for _, c := range cases {
		got := Append(nil, c.in)
		if string(got) != c.want {
			t.Errorf("%s: Append(%#v)\n got %s\nwant %s", c.name, c.in, got, c.want)
		}
		if !utf8.Valid(got) {
			t.Errorf("%s: output is not valid UTF-8: %q", c.name, got)
		}
		if !json.Valid(got) {
			t.Errorf("%s: output is not JSON: %s", c.name, got)
		}
	}
}

func TestStringEscapes(t *testing.T) {
	runCases(t, []encCase{
		{"empty", "", `""`},
		{"quote and backslash", `a"b\c`, `"a\"b\\c"`},
		{"short escapes", "\b\t\n\f\r", `"\b\t\n\f\r"`},
		{"other controls lower-case hex", "\x00\x01\x0b\x0e\x1a\x1f", `"\u0000\u0001\u000b\u000e\u001a\u001f"`},
		{"html raw", "<a href='x'>&amp;</a>", `"<a href='x'>&amp;</a>"`},
		{"DEL raw", "\x7f", "\"\x7f\""},
		{"line and paragraph separators raw", "\u2028\u2029", "\"\u2028\u2029\""},
		{"slash raw", "a/b", `"a/b"`},
		{"multibyte raw", "café 中文 😀", `"café 中文 😀"`},
		{"U+FFFD itself kept", "\uFFFD", "\"\uFFFD\""},
		{"max rune", "\U0010FFFF", "\"\U0010FFFF\""},
	})
}

func TestInvalidUTF8BecomesReplacement(t *testing.T) {
	runCases(t, []encCase{
		{"lone high byte", "a\xffb", "\"a\uFFFDb\""},
		{"lone continuation", "\x80", "\"\uFFFD\""},
		{"truncated sequence", "\xe2\x82", "\"\uFFFD\uFFFD\""},
		{"truncated at end after text", "ok\xf0\x9f\x98", "\"ok\uFFFD\uFFFD\uFFFD\""},
		{"surrogate half", "\xed\xa0\x80", "\"\uFFFD\uFFFD\uFFFD\""},
		{"overlong slash", "\xc0\xaf", "\"\uFFFD\uFFFD\""},
		{"invalid next to escape", "\xff\n", "\"\uFFFD\\n\""},
		{"bytes slice", []byte("x\xffy"), "\"x\uFFFDy\""},
		{"invalid key", map[string]any{"k\xfe": 1}, "{\"k\uFFFD\":1}"},
	})
}

func TestFloats(t *testing.T) {
	runCases(t, []encCase{
		{"zero", 0.0, "0.0"},
		{"negative zero", math.Copysign(0, -1), "-0.0"},
		{"one", 1.0, "1.0"},
		{"hundred", 100.0, "100.0"},
		{"fraction", 0.1, "0.1"},
		{"not exact sum", add(0.1, 0.2), "0.30000000000000004"},
		{"negative", -3.14159, "-3.14159"},
		{"E=15 whole", 1e15, "1000000000000000.0"},
		{"E=15 largest below 1e16", 9999999999999998.0, "9999999999999998.0"},
		{"E=15 with fraction", 123456789012345.6, "123456789012345.6"},
		{"E=16 power", 1e16, "1e16"},
		{"E=16 digits", 12345678901234568.0, "1.2345678901234568e16"},
		{"E=17", 1.2345678901234568e17, "1.2345678901234568e17"},
		{"E=21", 1e21, "1e21"},
		{"E=-5", 1e-5, "0.00001"},
		{"E=-5 digits", 1.5e-5, "0.000015"},
		{"E=-5 many digits", 9.87654321e-5, "0.0000987654321"},
		{"E=-6", 9.99e-6, "9.99e-6"},
		{"E=-6 power", 1e-6, "1e-6"},
		{"E=-7 negative", -1e-7, "-1e-7"},
		{"big", 1.5e300, "1.5e300"},
		{"max", math.MaxFloat64, "1.7976931348623157e308"},
		{"smallest normal", 2.2250738585072014e-308, "2.2250738585072014e-308"},
		{"smallest subnormal", math.SmallestNonzeroFloat64, "5e-324"},
		{"NaN", math.NaN(), "null"},
		{"+Inf", math.Inf(1), "null"},
		{"-Inf", math.Inf(-1), "null"},
		{"float32 keeps its digits", float32(0.1), "0.1"},
		{"float32 whole", float32(16777216), "16777216.0"},
		{"float32 max", float32(math.MaxFloat32), "3.4028235e38"},
		{"float32 small", float32(1e-6), "1e-6"},
		{"float32 negative zero", float32(math.Copysign(0, -1)), "-0.0"},
		{"float32 NaN", float32(math.NaN()), "null"},
		{"named float", celsius(21.5), "21.5"},
		{"named float32", temp32(2.5), "2.5"},
	})
}

// add sums at run time (constant arithmetic would be exact).
func add(a, b float64) float64 { return a + b }

type (
	celsius float64
	temp32  float32
	level   int8
	flags   uint16
	label   string
	yes     bool
)

func TestIntegers(t *testing.T) {
	runCases(t, []encCase{
		{"int max", int(math.MaxInt), "9223372036854775807"},
		{"int min", int(math.MinInt), "-9223372036854775808"},
		{"int8", int8(math.MinInt8), "-128"},
		{"int16", int16(math.MaxInt16), "32767"},
		{"int32", int32(math.MinInt32), "-2147483648"},
		{"int64 max", int64(math.MaxInt64), "9223372036854775807"},
		{"int64 min", int64(math.MinInt64), "-9223372036854775808"},
		{"uint max", uint(math.MaxUint), "18446744073709551615"},
		{"uint8", uint8(255), "255"},
		{"uint16", uint16(65535), "65535"},
		{"uint32", uint32(math.MaxUint32), "4294967295"},
		{"uint64 max", uint64(math.MaxUint64), "18446744073709551615"},
		{"uintptr", uintptr(42), "42"},
		{"zero", 0, "0"},
		{"named int8", level(-3), "-3"},
		{"named uint16", flags(7), "7"},
		{"named string", label("x\ny"), `"x\ny"`},
		{"named bool", yes(true), "true"},
	})
}

func TestNilBoolAndNumbers(t *testing.T) {
	runCases(t, []encCase{
		{"nil", nil, "null"},
		{"true", true, "true"},
		{"false", false, "false"},
		{"number int", json.Number("42"), "42"},
		{"number exp", json.Number("-12.5E+3"), "-12.5E+3"},
		{"number not a number", json.Number("12abc"), `"12abc"`},
		{"number leading zero", json.Number("01"), `"01"`},
		{"number empty", json.Number(""), `""`},
		{"number trailing point", json.Number("1."), `"1."`},
		{"raw message compacted", json.RawMessage("{ \"b\": 1,\n \"a\": [1, 2] }"), `{"b":1,"a":[1,2]}`},
		{"raw message invalid", json.RawMessage("{oops"), `"{oops"`},
		{"raw message nil", json.RawMessage(nil), "null"},
	})
}

func TestContainersFastPath(t *testing.T) {
	runCases(t, []encCase{
		{"empty map", map[string]any{}, "{}"},
		{"nil map", map[string]any(nil), "null"},
		{"nil slice", []any(nil), "null"},
		{"empty slice", []any{}, "[]"},
		{"sorted keys", map[string]any{"b": 1, "a": 2, "B": 3, "": 4, "aa": 5}, `{"":4,"B":3,"a":2,"aa":5,"b":1}`},
		{"nested", map[string]any{"x": []any{1, "two", 3.0, nil, true, map[string]any{"z": false}}}, `{"x":[1,"two",3.0,null,true,{"z":false}]}`},
		{"strings", []string{"a", "b\"c"}, `["a","b\"c"]`},
		{"ints", []int{1, -2}, `[1,-2]`},
		{"int64s", []int64{math.MinInt64}, `[-9223372036854775808]`},
		{"floats", []float64{1, 0.5, math.NaN()}, `[1.0,0.5,null]`},
		{"bools", []bool{true, false}, `[true,false]`},
		{"nil strings", []string(nil), "null"},
		{"map string", map[string]string{"b": "2", "a": "1"}, `{"a":"1","b":"2"}`},
		{"map int", map[string]int{"b": 2, "a": 1}, `{"a":1,"b":2}`},
		{"map int64", map[string]int64{"n": -1}, `{"n":-1}`},
		{"map float", map[string]float64{"f": 2}, `{"f":2.0}`},
		{"map bool", map[string]bool{"t": true}, `{"t":true}`},
		{"nil map string", map[string]string(nil), "null"},
		{"bytes", []byte("hi"), `"hi"`},
		{"nil bytes", []byte(nil), "null"},
		{"keys by code point", map[string]any{"é": 1, "z": 2, "😀": 3, "中": 4}, `{"z":2,"é":1,"中":4,"😀":3}`},
	})
}

func TestKeysSortedAfterReplacement(t *testing.T) {
	// "\xff" is written as U+FFFD, which sorts before U+FFFF although the
	// byte 0xff sorts after 0xef.
	m := map[string]any{"\xff": 1, "\uFFFF": 2, "a": 3, "\uFFFD": 4}
	want := "{\"a\":3,\"\uFFFD\":4,\"\uFFFD\":1,\"\uFFFF\":2}"
	for range 10 {
		if got := string(Append(nil, m)); got != want {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	}
}

func TestLargeMapsSorted(t *testing.T) {
	for _, n := range []int{31, 32, 33, 100} {
		m := make(map[string]any, n)
		ms := make(map[string]string, n)
		var want, wantS strings.Builder
		keys := make([]string, n)
		for i := range n {
			keys[i] = string(rune('A'+i/26)) + string(rune('a'+i%26))
		}
		want.WriteByte('{')
		wantS.WriteByte('{')
		for i, k := range keys { // built in sorted order
			m[k] = i
			ms[k] = k
			if i > 0 {
				want.WriteByte(',')
				wantS.WriteByte(',')
			}
			want.WriteString(`"` + k + `":` + itoa(i))
			wantS.WriteString(`"` + k + `":"` + k + `"`)
		}
		want.WriteByte('}')
		wantS.WriteByte('}')
		for range 3 {
			if got := string(Append(nil, m)); got != want.String() {
				t.Fatalf("n=%d map[string]any:\n got %s\nwant %s", n, got, want.String())
			}
			if got := string(Append(nil, ms)); got != wantS.String() {
				t.Fatalf("n=%d map[string]string:\n got %s\nwant %s", n, got, wantS.String())
			}
		}
	}
}

func itoa(i int) string { return string(Append(nil, i)) }

func TestAppendFields(t *testing.T) {
	m := map[string]any{"b": 2, "timestamp": "t", "a": 1, "": 0}
	cases := []struct {
		name  string
		m     map[string]any
		skip  string
		comma bool
		want  string
	}{
		{"all keys, empty key written", m, "", false, `"":0,"a":1,"b":2,"timestamp":"t"`},
		{"skip", m, "timestamp", false, `"":0,"a":1,"b":2`},
		{"comma first", m, "timestamp", true, `,"":0,"a":1,"b":2`},
		{"skip missing key", map[string]any{"x": 1}, "timestamp", true, `,"x":1`},
		{"only skipped key: nothing, no comma", map[string]any{"timestamp": 1}, "timestamp", true, ``},
		{"empty: nothing", map[string]any{}, "", true, ``},
		{"nil: nothing", nil, "", true, ``},
	}
	for _, c := range cases {
		got := AppendFields([]byte("prefix"), c.m, c.skip, c.comma)
		if string(got) != "prefix"+c.want {
			t.Errorf("%s: got %s, want prefix%s", c.name, got, c.want)
		}
	}
	// Self reference is caught at the first repeat.
	self := map[string]any{"a": 1}
	self["self"] = self
	if got, want := string(AppendFields(nil, self, "", false)), `"a":1,"self":"<cycle>"`; got != want {
		t.Errorf("self reference: got %s, want %s", got, want)
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	buf := []byte(`{"data":`)
	buf = Append(buf, map[string]any{"k": "v"})
	if string(buf) != `{"data":{"k":"v"}` {
		t.Errorf("got %s", buf)
	}
}

func TestLargeMapAllocsAmortized(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop scratch buffers at random, so allocations are not amortized")
	}
	m := make(map[string]any, 64)
	for i := range 64 {
		m[string(rune('a'+i%26))+itoa(i)] = i
	}
	buf := Append(nil, m)
	allocs := testing.AllocsPerRun(50, func() { buf = Append(buf[:0], m) })
	if allocs > 1 {
		t.Errorf("64-key map: %.1f allocs per encoding, want at most 1 (pooled scratch)", allocs)
	}
}
