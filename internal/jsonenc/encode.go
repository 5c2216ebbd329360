package jsonenc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
	"unsafe"
)

// maxDepth is how many maps, slices and pointers may nest before the
// encoder writes "<max depth>" instead of going deeper.
const maxDepth = 1000

// Markers written, as strings, in place of a value that would never end.
const (
	cycleMarker = "<cycle>"
	depthMarker = "<max depth>"
)

// ident identifies a container being encoded: its address, its length for
// slices, and its type (a struct and its first field share an address).
type ident struct {
	ptr unsafe.Pointer
	n   int
	typ reflect.Type
}

var (
	mapAnyType   = reflect.TypeFor[map[string]any]()
	sliceAnyType = reflect.TypeFor[[]any]()
)

// enter returns path with id pushed, or a marker to write instead when id is
// already on the path (a cycle) or the path is too deep.
func enter(path []ident, id ident) ([]ident, string) {
	if len(path) >= maxDepth {
		return path, depthMarker
	}
	for i := range path {
		if path[i] == id {
			return path, cycleMarker
		}
	}
	return append(path, id), ""
}

// Append appends the JSON encoding of v to dst and returns the extended
// buffer. It never fails: values JSON cannot hold are written as strings.
func Append(dst []byte, v any) []byte {
	var stack [16]ident
	return appendAny(dst, v, stack[:0])
}

// AppendFields appends the members of m as "key":value pairs separated by
// commas, without braces, keys sorted. A member whose key equals skip is left
// out; skip "" leaves nothing out (a key "" is written). When comma is true
// and at least one pair is written, a comma comes before the first pair. A nil
// or empty m writes nothing.
func AppendFields(dst []byte, m map[string]any, skip string, comma bool) []byte {
	if len(m) == 0 {
		return dst
	}
	var stack [16]ident
	path, _ := enter(stack[:0], ident{ptr: reflect.ValueOf(m).UnsafePointer(), typ: mapAnyType})
	return appendMembers(dst, m, skip, comma, path)
}

// appendAny is Append with the path of containers being encoded.
func appendAny(dst []byte, v any, path []ident) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return AppendString(dst, x)
	case bool:
		return strconv.AppendBool(dst, x)
	case int:
		return strconv.AppendInt(dst, int64(x), 10)
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case int32:
		return strconv.AppendInt(dst, int64(x), 10)
	case int16:
		return strconv.AppendInt(dst, int64(x), 10)
	case int8:
		return strconv.AppendInt(dst, int64(x), 10)
	case uint:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint64:
		return strconv.AppendUint(dst, x, 10)
	case uint32:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint16:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uint8:
		return strconv.AppendUint(dst, uint64(x), 10)
	case uintptr:
		return strconv.AppendUint(dst, uint64(x), 10)
	case float64:
		return appendFloat(dst, x, 64)
	case float32:
		return appendFloat(dst, float64(x), 32)
	case map[string]any:
		return appendMapAny(dst, x, path)
	case []any:
		return appendSliceAny(dst, x, path)
	case map[string]string:
		return appendMapOf(dst, x, AppendString)
	case map[string]int:
		return appendMapOf(dst, x, appendIntValue)
	case map[string]int64:
		return appendMapOf(dst, x, appendInt64Value)
	case map[string]float64:
		return appendMapOf(dst, x, appendFloatValue)
	case map[string]bool:
		return appendMapOf(dst, x, strconv.AppendBool)
	case []string:
		return appendSliceOf(dst, x, AppendString)
	case []int:
		return appendSliceOf(dst, x, appendIntValue)
	case []int64:
		return appendSliceOf(dst, x, appendInt64Value)
	case []float64:
		return appendSliceOf(dst, x, appendFloatValue)
	case []bool:
		return appendSliceOf(dst, x, strconv.AppendBool)
	case []byte:
		if x == nil {
			return append(dst, "null"...)
		}
		return appendBytes(dst, x)
	case json.Number:
		if validNumber(string(x)) {
			return append(dst, x...)
		}
		return AppendString(dst, string(x))
	case *json.Number:
		if x == nil {
			return append(dst, "null"...)
		}
		return appendAny(dst, *x, path)
	case json.RawMessage:
		return appendRaw(dst, x)
	case time.Time:
		return appendTime(dst, x)
	case *time.Time:
		if x == nil {
			return append(dst, "null"...)
		}
		return appendTime(dst, *x)
	case error:
		return appendMethodString(dst, x)
	case fmt.Stringer:
		return appendMethodString(dst, x)
	default:
		return appendValue(dst, reflect.ValueOf(v), path)
	}
}

// Element encoders for the typed maps and slices of the fast path. They take
// no path: these containers cannot hold containers.
func appendIntValue(dst []byte, n int) []byte     { return strconv.AppendInt(dst, int64(n), 10) }
func appendInt64Value(dst []byte, n int64) []byte { return strconv.AppendInt(dst, n, 10) }
func appendFloatValue(dst []byte, f float64) []byte {
	return appendFloat(dst, f, 64)
}

// appendMapAny appends m as an object, guarding against m containing itself.
func appendMapAny(dst []byte, m map[string]any, path []ident) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	path, marker := enter(path, ident{ptr: reflect.ValueOf(m).UnsafePointer(), typ: mapAnyType})
	if marker != "" {
		return AppendString(dst, marker)
	}
	dst = append(dst, '{')
	dst = appendMembers(dst, m, "", false, path)
	return append(dst, '}')
}

// appendSliceAny appends s as an array, guarding against s containing itself.
func appendSliceAny(dst []byte, s []any, path []ident) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	path, marker := enter(path, ident{ptr: unsafe.Pointer(unsafe.SliceData(s)), n: len(s), typ: sliceAnyType})
	if marker != "" {
		return AppendString(dst, marker)
	}
	dst = append(dst, '[')
	for i := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendAny(dst, s[i], path)
	}
	return append(dst, ']')
}

// appendMapOf appends a map whose values cannot hold containers.
func appendMapOf[V any](dst []byte, m map[string]V, val func([]byte, V) []byte) []byte {
	if m == nil {
		return append(dst, "null"...)
	}
	var small [smallMap]pair[V]
	ps := small[:0]
	if len(m) > smallMap {
		ps = make([]pair[V], 0, len(m))
	}
	ps = collectPairs(ps, m, "")
	dst = append(dst, '{')
	start := len(dst)
	for _, valid := range [2]bool{true, false} {
		sortPairs(ps, valid)
		invalid := false
		for i := range ps {
			if i > 0 {
				dst = append(dst, ',')
			}
			var bad bool
			dst, bad = appendString(dst, ps[i].key)
			invalid = invalid || bad
			dst = append(dst, ':')
			dst = val(dst, ps[i].val)
		}
		if !invalid || !valid {
			break
		}
		dst = dst[:start] // a key had invalid UTF-8: sort as written, again
	}
	return append(dst, '}')
}

// appendSliceOf appends s as an array with val encoding each element.
func appendSliceOf[E any](dst []byte, s []E, val func([]byte, E) []byte) []byte {
	if s == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, '[')
	for i := range s {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = val(dst, s[i])
	}
	return append(dst, ']')
}

// pair is one member of a map being encoded.
type pair[V any] struct {
	key string
	pre uint64 // the key's first 8 bytes, big-endian: orders most keys alone
	val V
}

// smallMap is the largest map whose members are sorted in a stack array.
const smallMap = 32

// pairPool holds scratch for map[string]any maps larger than smallMap.
var pairPool = sync.Pool{New: func() any { return new([]pair[any]) }}

// appendMembers appends the members of m sorted by key, "k":v separated by
// commas, leaving out the key skip unless skip is "". With comma, a comma
// precedes the first member written.
func appendMembers(dst []byte, m map[string]any, skip string, comma bool, path []ident) []byte {
	if len(m) > smallMap {
		pooled := pairPool.Get().(*[]pair[any])
		big := collectPairs((*pooled)[:0], m, skip)
		dst = appendPairs(dst, big, comma, path)
		clear(big)
		*pooled = big[:0]
		pairPool.Put(pooled)
		return dst
	}
	var small [smallMap]pair[any]
	return appendPairs(dst, collectPairs(small[:0], m, skip), comma, path)
}

// collectPairs appends the members of m but skip to ps.
func collectPairs[V any](ps []pair[V], m map[string]V, skip string) []pair[V] {
	for k, v := range m {
		if skip != "" && k == skip {
			continue
		}
		ps = append(ps, pair[V]{k, prefix(k), v})
	}
	return ps
}

// appendPairs sorts ps and appends them as "k":v separated by commas, with
// a comma first when comma is set. Keys are sorted by bytes; when one turns
// out not to be valid UTF-8 the members are sorted as written and appended
// again.
func appendPairs(dst []byte, ps []pair[any], comma bool, path []ident) []byte {
	start := len(dst)
	for _, valid := range [2]bool{true, false} {
		sortPairs(ps, valid)
		invalid := false
		for i := range ps {
			if i > 0 || comma {
				dst = append(dst, ',')
			}
			var bad bool
			dst, bad = appendString(dst, ps[i].key)
			invalid = invalid || bad
			dst = append(dst, ':')
			dst = appendAny(dst, ps[i].val, path)
		}
		if !invalid || !valid {
			break
		}
		dst = dst[:start]
	}
	return dst
}

// appendMethodString appends the string fmt makes of v (Error or String),
// or null for a nil pointer.
func appendMethodString(dst []byte, v any) []byte {
	if rv := reflect.ValueOf(v); rv.Kind() == reflect.Pointer && rv.IsNil() {
		return append(dst, "null"...)
	}
	return appendFmt(dst, v)
}

// fmtPool holds scratch buffers for fmt output.
var fmtPool = sync.Pool{New: func() any { return new([]byte) }}

// appendFmt appends fmt.Sprint(v) as a JSON string. fmt reports a panicking
// Error or String method inside the text instead of panicking.
func appendFmt(dst []byte, v any) []byte {
	bp := fmtPool.Get().(*[]byte)
	b := fmt.Append((*bp)[:0], v)
	dst = appendBytes(dst, b)
	if cap(b) <= 64<<10 {
		*bp = b[:0]
		fmtPool.Put(bp)
	}
	return dst
}

// appendRaw appends raw compacted when it is valid JSON and UTF-8, null
// when it is empty, else as a string.
func appendRaw(dst []byte, raw json.RawMessage) []byte {
	if len(raw) == 0 {
		return append(dst, "null"...)
	}
	if !json.Valid(raw) || !utf8.Valid(raw) {
		return appendBytes(dst, raw)
	}
	buf := bytes.NewBuffer(dst)
	if err := json.Compact(buf, raw); err != nil {
		return appendBytes(dst, raw)
	}
	return buf.Bytes()
}
