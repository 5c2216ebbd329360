package jsonenc

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// bytesString views b as a string for a call that does not keep it.
func bytesString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// Nesting limits of orjson (current releases, which read with yyjson).
const (
	// loadsMaxDepth is how many arrays and objects orjson.loads lets nest.
	loadsMaxDepth = 1024
	// dumpsMaxLevel is the nesting level, counted from the document
	// orjson.dumps writes (its outermost container is level 1), at which
	// it refuses an object or a non-empty array ("Recursion limit reached").
	dumpsMaxLevel = 255
)

// SyntaxError says why Reencode refused a document, and where.
type SyntaxError struct {
	// Offset is the byte offset in the document where the problem was found.
	Offset int
	// Msg says what is wrong.
	Msg string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("eventpub/jsonenc: %s at byte %d", e.Msg, e.Offset)
}

// Reencode appends the JSON document src as Python's
// orjson.dumps(orjson.loads(src)) writes it, with the value placed inside
// enclosing arrays or objects of the document being written (0 when the
// value is the whole document, 1 for a value of a top-level object).
//
// What orjson.loads accepts is exactly RFC 8259 JSON in valid UTF-8: no
// NaN or Infinity, no trailing commas, no byte order mark, no lone
// surrogate escapes, no control characters unescaped inside strings, at
// most 1024 nested arrays and objects. For any other src Reencode returns
// dst unchanged and a *SyntaxError. It also refuses, the same way, a
// document orjson.dumps could not write back: an object, or an array with
// elements, at nesting level 255 of the written document (enclosing
// included).
//
// Values are written as orjson writes the Python values loads makes:
//
//   - Object members keep the document's order. A key that appears more
//     than once (compared after unescaping) is written once, where it first
//     appeared, with its last value, as a Python dict keeps it.
//   - Strings are unescaped and written by the rules of AppendString
//     ("\u00e9" becomes "é", "\/" becomes "/").
//   - A number with a fraction or an exponent is a float, written in
//     shortest round-trip form (1.50 is 1.5, 1E2 is 100.0, 1e-400 is 0.0);
//     one whose magnitude is too large for a float64 is refused.
//   - An integer from -2^63 to 2^64-1 is written as it is ("-0" as 0). One
//     outside that range is read as the nearest float64, as orjson does:
//     100000000000000000000 is written 1e20.
func Reencode(dst, src []byte, enclosing int) ([]byte, error) {
	r := reencoder{src: src, dst: dst, enclosing: enclosing}
	start := len(dst)
	r.skipSpace()
	if r.pos == len(src) {
		return dst[:start], &SyntaxError{Offset: r.pos, Msg: "no JSON value"}
	}
	if err := r.value(0); err != nil {
		return r.dst[:start], err
	}
	r.skipSpace()
	if r.pos != len(src) {
		return r.dst[:start], r.fail("unexpected content after the value")
	}
	return r.dst, nil
}

// member records where one object member was written in dst.
type member struct {
	key, end int // the key's opening quote; the end of the value
	colon    int // the ':' after the key
}

type reencoder struct {
	src       []byte
	pos       int
	dst       []byte
	enclosing int
	members   []member // a stack shared by the objects being written
	scratch   []byte   // unescaped string bytes
}

func (r *reencoder) fail(msg string) error { return &SyntaxError{Offset: r.pos, Msg: msg} }

func (r *reencoder) skipSpace() {
	for r.pos < len(r.src) {
		switch r.src[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

// value reads one value at r.pos; depth counts the containers around it.
func (r *reencoder) value(depth int) error {
	if r.pos >= len(r.src) {
		return r.fail("unexpected end of the document")
	}
	switch c := r.src[r.pos]; {
	case c == '{':
		return r.object(depth + 1)
	case c == '[':
		return r.array(depth + 1)
	case c == '"':
		return r.str()
	case c == '-' || isDigit(c):
		return r.number()
	case c == 't':
		return r.literal("true")
	case c == 'f':
		return r.literal("false")
	case c == 'n':
		return r.literal("null")
	default:
		return r.fail(fmt.Sprintf("unexpected character %q", c))
	}
}

func (r *reencoder) literal(word string) error {
	if !bytes.HasPrefix(r.src[r.pos:], []byte(word)) {
		return r.fail("invalid literal")
	}
	r.pos += len(word)
	r.dst = append(r.dst, word...)
	return nil
}

// enter checks the nesting limits for a container at depth; empty says
// whether it has no elements.
func (r *reencoder) enter(depth int, empty bool) error {
	if depth > loadsMaxDepth {
		return r.fail("arrays and objects nested more than 1024 deep")
	}
	if r.enclosing+depth >= dumpsMaxLevel && !empty {
		return r.fail("arrays and objects nested too deep for orjson to write")
	}
	return nil
}

// peekEnd skips space after an opening bracket and reports whether the
// closing one follows.
func (r *reencoder) peekEnd(closing byte) bool {
	r.skipSpace()
	return r.pos < len(r.src) && r.src[r.pos] == closing
}

func (r *reencoder) array(depth int) error {
	r.pos++ // '['
	empty := r.peekEnd(']')
	if err := r.enter(depth, empty); err != nil {
		return err
	}
	r.dst = append(r.dst, '[')
	if empty {
		r.pos++
		r.dst = append(r.dst, ']')
		return nil
	}
	for {
		if err := r.value(depth); err != nil {
			return err
		}
		r.skipSpace()
		if r.pos >= len(r.src) {
			return r.fail("unexpected end of the document in an array")
		}
		switch r.src[r.pos] {
		case ',':
			r.pos++
			r.dst = append(r.dst, ',')
			r.skipSpace()
		case ']':
			r.pos++
			r.dst = append(r.dst, ']')
			return nil
		default:
			return r.fail("expected ',' or ']' in an array")
		}
	}
}

func (r *reencoder) object(depth int) error {
	r.pos++ // '{'
	empty := r.peekEnd('}')
	if err := r.enter(depth, empty); err != nil {
		return err
	}
	open := len(r.dst)
	r.dst = append(r.dst, '{')
	if empty {
		r.pos++
		r.dst = append(r.dst, '}')
		return nil
	}
	base := len(r.members)
	for {
		if r.pos >= len(r.src) || r.src[r.pos] != '"' {
			return r.fail("expected a string key in an object")
		}
		if len(r.members) > base {
			r.dst = append(r.dst, ',')
		}
		m := member{key: len(r.dst)}
		if err := r.str(); err != nil {
			return err
		}
		m.colon = len(r.dst)
		r.skipSpace()
		if r.pos >= len(r.src) || r.src[r.pos] != ':' {
			return r.fail("expected ':' after an object key")
		}
		r.pos++
		r.dst = append(r.dst, ':')
		r.skipSpace()
		if err := r.value(depth); err != nil {
			return err
		}
		m.end = len(r.dst)
		r.members = append(r.members, m)
		r.skipSpace()
		if r.pos >= len(r.src) {
			return r.fail("unexpected end of the document in an object")
		}
		switch r.src[r.pos] {
		case ',':
			r.pos++
			r.skipSpace()
		case '}':
			r.pos++
			r.dedupe(open, r.members[base:])
			r.members = r.members[:base]
			r.dst = append(r.dst, '}')
			return nil
		default:
			return r.fail("expected ',' or '}' in an object")
		}
	}
}

// dedupe rewrites the members of the object opened at dst[open] when a key
// repeats: each key once, at its first place, with its last value.
func (r *reencoder) dedupe(open int, ms []member) {
	key := func(m member) []byte { return r.dst[m.key:m.colon] }
	dup := false
	if len(ms) <= 16 {
	scan:
		for i := 1; i < len(ms); i++ {
			for j := 0; j < i; j++ {
				if bytes.Equal(key(ms[i]), key(ms[j])) {
					dup = true
					break scan
				}
			}
		}
	} else {
		seen := make(map[string]struct{}, len(ms))
		for _, m := range ms {
			k := string(key(m))
			if _, ok := seen[k]; ok {
				dup = true
				break
			}
			seen[k] = struct{}{}
		}
	}
	if !dup {
		return
	}
	last := make(map[string]int, len(ms)) // key -> index of its last member
	for i, m := range ms {
		last[string(key(m))] = i
	}
	out := make([]byte, 0, len(r.dst)-open)
	written := make(map[string]bool, len(last))
	for _, m := range ms {
		k := string(key(m))
		if written[k] {
			continue
		}
		written[k] = true
		if len(out) > 0 {
			out = append(out, ',')
		}
		v := ms[last[k]]
		out = append(out, r.dst[m.key:m.colon+1]...)
		out = append(out, r.dst[v.colon+1:v.end]...)
	}
	r.dst = append(r.dst[:open+1], out...)
}

// str reads a string at r.pos and writes it unescaped, by AppendString's rules.
func (r *reencoder) str() error {
	r.pos++ // '"'
	start := r.pos
	// Fast path: no escapes.
	for i := start; i < len(r.src); i++ {
		c := r.src[i]
		if c == '"' {
			s := r.src[start:i]
			if !utf8.Valid(s) {
				return r.badUTF8(start)
			}
			r.dst = append(r.dst, '"')
			r.dst = append(r.dst, s...)
			r.dst = append(r.dst, '"')
			r.pos = i + 1
			return nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			r.pos = i
			return r.fail("control character in a string")
		}
	}
	buf := r.scratch[:0]
	for {
		if r.pos >= len(r.src) {
			return r.fail("unterminated string")
		}
		c := r.src[r.pos]
		switch {
		case c == '"':
			r.pos++
			if !utf8.Valid(buf) {
				return r.badUTF8(start)
			}
			r.scratch = buf
			r.dst = appendBytes(r.dst, buf)
			return nil
		case c < 0x20:
			return r.fail("control character in a string")
		case c != '\\':
			buf = append(buf, c)
			r.pos++
			continue
		}
		if r.pos+1 >= len(r.src) {
			return r.fail("unterminated escape")
		}
		e := r.src[r.pos+1]
		r.pos += 2
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			ch, ok := r.hex4()
			if !ok {
				return r.fail("invalid \\u escape")
			}
			if utf16.IsSurrogate(ch) {
				if ch >= 0xDC00 || r.pos+1 >= len(r.src) || r.src[r.pos] != '\\' || r.src[r.pos+1] != 'u' {
					return r.fail("lone surrogate in a \\u escape")
				}
				r.pos += 2
				lo, ok := r.hex4()
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return r.fail("lone surrogate in a \\u escape")
				}
				ch = utf16.DecodeRune(ch, lo)
			}
			buf = utf8.AppendRune(buf, ch)
		default:
			r.pos -= 2
			return r.fail("invalid escape")
		}
	}
}

func (r *reencoder) badUTF8(start int) error {
	r.pos = start
	return r.fail("string is not valid UTF-8")
}

// hex4 reads four hex digits at r.pos.
func (r *reencoder) hex4() (rune, bool) {
	if r.pos+4 > len(r.src) {
		return 0, false
	}
	var v rune
	for _, c := range r.src[r.pos : r.pos+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	r.pos += 4
	return v, true
}

// number reads a number at r.pos and writes it as orjson writes the int or
// float orjson.loads makes of it.
func (r *reencoder) number() error {
	start := r.pos
	i := start
	neg := r.src[i] == '-'
	if neg {
		i++
	}
	digits := i
	switch {
	case i < len(r.src) && r.src[i] == '0':
		i++
	case i < len(r.src) && r.src[i] >= '1' && r.src[i] <= '9':
		for i < len(r.src) && isDigit(r.src[i]) {
			i++
		}
	default:
		r.pos = i
		return r.fail("no digit in a number")
	}
	intEnd := i
	isFloat := false
	if i < len(r.src) && r.src[i] == '.' {
		isFloat = true
		i++
		if i >= len(r.src) || !isDigit(r.src[i]) {
			r.pos = i
			return r.fail("no digit after the decimal point")
		}
		for i < len(r.src) && isDigit(r.src[i]) {
			i++
		}
	}
	if i < len(r.src) && (r.src[i] == 'e' || r.src[i] == 'E') {
		isFloat = true
		i++
		if i < len(r.src) && (r.src[i] == '+' || r.src[i] == '-') {
			i++
		}
		if i >= len(r.src) || !isDigit(r.src[i]) {
			r.pos = i
			return r.fail("no digit in an exponent")
		}
		for i < len(r.src) && isDigit(r.src[i]) {
			i++
		}
	}
	r.pos = i
	text := r.src[start:i]
	if !isFloat {
		mag, err := strconv.ParseUint(bytesString(r.src[digits:intEnd]), 10, 64)
		switch {
		case err != nil: // beyond 64 bits: a float
		case mag == 0:
			r.dst = append(r.dst, '0')
			return nil
		case !neg:
			r.dst = append(r.dst, text...)
			return nil
		case mag <= 1<<63:
			r.dst = append(r.dst, text...)
			return nil
		}
	}
	f, _ := strconv.ParseFloat(bytesString(text), 64)
	if math.IsInf(f, 0) {
		r.pos = start
		return r.fail("number too large for a float64")
	}
	r.dst = appendFloat(r.dst, f, 64)
	return nil
}
