package jsonenc

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// valueGen builds a value from fuzz bytes: nested maps and slices of strings
// with arbitrary bytes, floats including NaN and ±Inf, ints, bools and nil.
type valueGen struct{ data []byte }

func (g *valueGen) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

func (g *valueGen) uint64() uint64 {
	var b [8]byte
	n := copy(b[:], g.data)
	g.data = g.data[n:]
	return binary.LittleEndian.Uint64(b[:])
}

func (g *valueGen) string() string {
	n := min(int(g.byte()%40), len(g.data))
	s := string(g.data[:n])
	g.data = g.data[n:]
	return s
}

func (g *valueGen) value(depth int) any {
	kind := g.byte() % 12
	if depth >= 6 && kind >= 10 {
		kind = 6
	}
	switch kind {
	case 0:
		return nil
	case 1:
		return g.byte()&1 == 1
	case 2:
		return int64(g.uint64())
	case 3:
		return g.uint64()
	case 4:
		return math.Float64frombits(g.uint64())
	case 5:
		return math.Float32frombits(uint32(g.uint64()))
	case 6:
		return g.string()
	case 7: // short decimals like those applications log
		return float64(int32(g.uint64())) / math.Pow10(int(g.byte()%24))
	case 8:
		return []float64{math.NaN(), math.Inf(1), math.Inf(-1), math.Copysign(0, -1), 0}[g.byte()%5]
	case 9:
		return int(int8(g.byte()))
	case 10:
		m := map[string]any{}
		for range int(g.byte() % 40) {
			m[g.string()] = g.value(depth + 1)
		}
		return m
	default:
		s := make([]any, int(g.byte()%8))
		for i := range s {
			s[i] = g.value(depth + 1)
		}
		return s
	}
}

// replaced is s with each invalid UTF-8 byte turned into U+FFFD.
func replaced(s string) string { return string([]rune(s)) }

func FuzzAppend(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{10, 3, 1, 'a', 6, 2, 0xff, 'b', 2, 1, 2, 3, 4, 5, 6, 7, 8})
	f.Add([]byte{11, 5, 4, 0, 0, 0, 0, 0, 0, 0xf8, 0x7f, 8, 1, 8, 2, 5, 1, 0, 0, 0x80, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{10, 4, 1, 0xff, 1, 1, 1, 0xef, 0, 3, 0xef, 0xbf, 0xbd, 9, 0x80, 1, '"', 6, 3, '\n', 0x01, '\\'})
	f.Add([]byte{7, 1, 2, 3, 4, 5, 6, 7, 8, 20, 11, 3, 7, 0xff, 0, 0, 0, 0, 0, 0, 0, 5, 4, 0, 0, 0, 0, 0, 0, 0x30, 0x43})
	f.Add([]byte("\x0a\x02\x03key\x0b\x02\x06\x05\xe2\x80\xa8<&\x0a\x01\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &valueGen{data: data}
		v := g.value(0)
		out := Append(nil, v)
		if !utf8.Valid(out) {
			t.Fatalf("output is not valid UTF-8: %q", out)
		}
		if again := Append(nil, v); !bytes.Equal(out, again) {
			t.Fatalf("two encodings differ:\n%s\n%s", out, again)
		}
		dec := json.NewDecoder(bytes.NewReader(out))
		dec.UseNumber()
		var got any
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("encoding/json rejects %s: %v", out, err)
		}
		if _, err := dec.Token(); err != io.EOF {
			t.Fatalf("trailing data after the value in %s", out)
		}
		checkSame(t, "$", got, v)
		checkKeyOrder(t, out)
	})
}

// checkSame compares what encoding/json decoded (with UseNumber) to the
// value that was encoded.
func checkSame(t *testing.T, at string, got, want any) {
	t.Helper()
	switch w := want.(type) {
	case nil:
		if got != nil {
			t.Fatalf("%s: got %#v, want null", at, got)
		}
	case bool:
		if got != w {
			t.Fatalf("%s: got %#v, want %v", at, got, w)
		}
	case int:
		checkInt(t, at, got, strconv.Itoa(w))
	case int64:
		checkInt(t, at, got, strconv.FormatInt(w, 10))
	case uint64:
		checkInt(t, at, got, strconv.FormatUint(w, 10))
	case float64:
		checkFloat(t, at, got, w, 64)
	case float32:
		checkFloat(t, at, got, float64(w), 32)
	case string:
		if got != replaced(w) {
			t.Fatalf("%s: got %q, want %q (from %q)", at, got, replaced(w), w)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Fatalf("%s: got %#v, want %d-element array", at, got, len(w))
		}
		for i := range w {
			checkSame(t, at+"["+strconv.Itoa(i)+"]", g[i], w[i])
		}
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			t.Fatalf("%s: got %#v, want an object", at, got)
		}
		// Keys equal after replacement are all written; the last one in
		// output order is what a decoder keeps.
		keys := make([]string, 0, len(w))
		for k := range w {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			if c := strings.Compare(replaced(a), replaced(b)); c != 0 {
				return c
			}
			return strings.Compare(a, b)
		})
		last := map[string]string{}
		for _, k := range keys {
			last[replaced(k)] = k
		}
		if len(g) != len(last) {
			t.Fatalf("%s: got %d keys, want %d", at, len(g), len(last))
		}
		for rk, k := range last {
			gv, ok := g[rk]
			if !ok {
				t.Fatalf("%s: key %q missing", at, rk)
			}
			checkSame(t, at+"."+strconv.Quote(rk), gv, w[k])
		}
	default:
		t.Fatalf("%s: generator made an unexpected %T", at, want)
	}
}

func checkInt(t *testing.T, at string, got any, want string) {
	t.Helper()
	if n, ok := got.(json.Number); !ok || string(n) != want {
		t.Fatalf("%s: got %#v, want %s", at, got, want)
	}
}

func checkFloat(t *testing.T, at string, got any, want float64, bitSize int) {
	t.Helper()
	if math.IsNaN(want) || math.IsInf(want, 0) {
		if got != nil {
			t.Fatalf("%s: got %#v, want null for %v", at, got, want)
		}
		return
	}
	n, ok := got.(json.Number)
	if !ok {
		t.Fatalf("%s: got %#v, want a number", at, got)
	}
	if !strings.ContainsAny(string(n), ".e") || strings.ContainsAny(string(n), "+E") {
		t.Fatalf("%s: float %v written as %s (needs '.' or 'e', no '+')", at, want, n)
	}
	f, err := strconv.ParseFloat(string(n), bitSize)
	if err != nil || f != want || math.Signbit(f) != math.Signbit(want) {
		t.Fatalf("%s: %s reads back as %v (%v), want %v", at, n, f, err, want)
	}
}

// checkKeyOrder walks the tokens of out and fails when an object's keys are
// not in ascending order.
func checkKeyOrder(t *testing.T, out []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	type frame struct {
		object bool
		expect bool // next string token is a key
		last   *string
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatalf("token: %v", err)
		}
		k, isString := tok.(string)
		if isString && len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].expect {
			top := &stack[len(stack)-1]
			if top.last != nil && *top.last > k {
				t.Fatalf("keys out of order: %q before %q in %s", *top.last, k, out)
			}
			top.last = &k
			top.expect = false
			continue
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, expect: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		if len(stack) > 0 && stack[len(stack)-1].object {
			stack[len(stack)-1].expect = true
		}
	}
}
