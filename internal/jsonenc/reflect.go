package jsonenc

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

var (
	errorType    = reflect.TypeFor[error]()
	stringerType = reflect.TypeFor[fmt.Stringer]()
	timeType     = reflect.TypeFor[time.Time]()
	numberType   = reflect.TypeFor[json.Number]()
	rawType      = reflect.TypeFor[json.RawMessage]()
)

// byInterface caches, per type, whether appendAny handles it by a case of
// its type switch (error, fmt.Stringer, time.Time, json types).
var byInterface sync.Map // reflect.Type → bool

func handledByInterface(t reflect.Type) bool {
	if b, ok := byInterface.Load(t); ok {
		return b.(bool)
	}
	b := t == timeType || t == numberType || t == rawType ||
		t.Implements(errorType) || t.Implements(stringerType)
	byInterface.Store(t, b)
	return b
}

// appendValue appends v found by reflection: any map, slice, array,
// pointer or struct, and named types of the basic kinds.
func appendValue(dst []byte, v reflect.Value, path []ident) []byte {
	if !v.IsValid() {
		return append(dst, "null"...)
	}
	k := v.Kind()
	if (k == reflect.Pointer || k == reflect.Interface) && v.IsNil() {
		return append(dst, "null"...)
	}
	if v.CanInterface() && (k == reflect.Interface || handledByInterface(v.Type())) {
		return appendAny(dst, v.Interface(), path)
	}
	switch k {
	case reflect.Bool:
		return strconv.AppendBool(dst, v.Bool())
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(dst, v.Int(), 10)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(dst, v.Uint(), 10)
	case reflect.Float32:
		return appendFloat(dst, v.Float(), 32)
	case reflect.Float64:
		return appendFloat(dst, v.Float(), 64)
	case reflect.String:
		return AppendString(dst, v.String())
	case reflect.Interface:
		return appendValue(dst, v.Elem(), path)
	case reflect.Pointer:
		path, marker := enter(path, ident{ptr: v.UnsafePointer(), typ: v.Type()})
		if marker != "" {
			return AppendString(dst, marker)
		}
		return appendValue(dst, v.Elem(), path)
	case reflect.Map:
		return appendMapValue(dst, v, path)
	case reflect.Slice:
		if v.IsNil() {
			return append(dst, "null"...)
		}
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return appendBytes(dst, v.Bytes())
		}
		path, marker := enter(path, ident{ptr: v.UnsafePointer(), n: v.Len(), typ: v.Type()})
		if marker != "" {
			return AppendString(dst, marker)
		}
		return appendElems(dst, v, path)
	case reflect.Array:
		return appendElems(dst, v, path)
	case reflect.Struct:
		return appendStruct(dst, v, path)
	default: // complex, chan, func, unsafe.Pointer
		return appendFmt(dst, v)
	}
}

// appendElems appends the elements of the slice or array v as an array.
func appendElems(dst []byte, v reflect.Value, path []ident) []byte {
	dst = append(dst, '[')
	for i := range v.Len() {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendValue(dst, v.Index(i), path)
	}
	return append(dst, ']')
}

// appendMapValue appends the map v as an object. Keys of kind string are
// used as they are, others as fmt.Sprint writes them; then they are sorted.
func appendMapValue(dst []byte, v reflect.Value, path []ident) []byte {
	if v.IsNil() {
		return append(dst, "null"...)
	}
	path, marker := enter(path, ident{ptr: v.UnsafePointer(), typ: v.Type()})
	if marker != "" {
		return AppendString(dst, marker)
	}
	ps := make([]pair[reflect.Value], 0, v.Len())
	valid := true
	for iter := v.MapRange(); iter.Next(); {
		key := iter.Key()
		var s string
		if key.Kind() == reflect.String {
			s = key.String()
		} else {
			s = fmt.Sprint(key)
		}
		if valid && !utf8.ValidString(s) {
			valid = false
		}
		ps = append(ps, pair[reflect.Value]{key: s, val: iter.Value()})
	}
	// Keys made by fmt may collide ("1" for 1 and "1"); the values' JSON
	// breaks the tie so the output does not depend on map order.
	slices.SortFunc(ps, func(a, b pair[reflect.Value]) int {
		if c := compareKeys(a.key, b.key, valid); c != 0 {
			return c
		}
		return bytes.Compare(appendValue(nil, a.val, path), appendValue(nil, b.val, path))
	})
	dst = append(dst, '{')
	for i := range ps {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendString(dst, ps[i].key)
		dst = append(dst, ':')
		dst = appendValue(dst, ps[i].val, path)
	}
	return append(dst, '}')
}

// appendStruct appends the struct v as an object of its exported fields.
func appendStruct(dst []byte, v reflect.Value, path []ident) []byte {
	dst = append(dst, '{')
	first := true
	for _, f := range cachedFields(v.Type()) {
		fv, ok := fieldByIndex(v, f.index)
		if !ok {
			continue
		}
		if f.omitEmpty && isEmpty(fv) || f.omitZero && isZero(fv) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = append(dst, f.prefix...)
		dst = appendValue(dst, fv, path)
	}
	return append(dst, '}')
}

// fieldByIndex is v.FieldByIndex reporting false at a nil embedded pointer.
func fieldByIndex(v reflect.Value, index []int) (reflect.Value, bool) {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				return reflect.Value{}, false
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v, true
}

// isEmpty is the omitempty test: false, 0, "", nil, and empty containers.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

type isZeroer interface{ IsZero() bool }

// isZero is the omitzero test: an IsZero method when the type has one (a
// nil pointer is zero without calling it), else the zero value. A panicking
// IsZero counts as not zero.
func isZero(v reflect.Value) (zero bool) {
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
		return true
	}
	if v.CanInterface() {
		if z, ok := v.Interface().(isZeroer); ok {
			defer func() {
				if recover() != nil {
					zero = false
				}
			}()
			return z.IsZero()
		}
	}
	return v.IsZero()
}

// field is one JSON member of a struct type.
type field struct {
	name      string
	prefix    string // `"name":`
	index     []int
	tagged    bool
	omitEmpty bool
	omitZero  bool
}

var fieldCache sync.Map // reflect.Type → []field

func cachedFields(t reflect.Type) []field {
	if f, ok := fieldCache.Load(t); ok {
		return f.([]field)
	}
	f, _ := fieldCache.LoadOrStore(t, typeFields(t))
	return f.([]field)
}

// typeFields lists the members of struct type t in declaration order,
// promoting fields of embedded structs the way encoding/json does.
func typeFields(t reflect.Type) []field {
	var all []field
	visiting := map[reflect.Type]bool{t: true}
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			tag := sf.Tag.Get("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if !validTagName(name) {
				name = ""
			}
			idx := append(slices.Clone(index), i)
			if sf.Anonymous {
				ft := sf.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() != reflect.Struct && !sf.IsExported() {
					continue
				}
				if name == "" && ft.Kind() == reflect.Struct {
					if !visiting[ft] { // an embedding loop adds nothing new
						visiting[ft] = true
						walk(ft, idx)
						delete(visiting, ft)
					}
					continue
				}
			} else if !sf.IsExported() {
				continue
			}
			f := field{name: name, index: idx, tagged: name != ""}
			if name == "" {
				f.name = sf.Name
			}
			for opts != "" {
				var o string
				o, opts, _ = strings.Cut(opts, ",")
				f.omitEmpty = f.omitEmpty || o == "omitempty"
				f.omitZero = f.omitZero || o == "omitzero"
			}
			f.prefix = string(append(AppendString(nil, f.name), ':'))
			all = append(all, f)
		}
	}
	walk(t, nil)
	return dominantFields(all)
}

// dominantFields keeps, for each name, the shallowest field; among equally
// shallow ones a single tagged field wins, else the name is dropped.
func dominantFields(all []field) []field {
	byName := slices.Clone(all)
	slices.SortStableFunc(byName, func(a, b field) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		if c := len(a.index) - len(b.index); c != 0 {
			return c
		}
		switch {
		case a.tagged && !b.tagged:
			return -1
		case b.tagged && !a.tagged:
			return 1
		}
		return 0
	})
	var out []field
	for i := 0; i < len(byName); {
		j := i + 1
		for j < len(byName) && byName[j].name == byName[i].name {
			j++
		}
		g := byName[i:j]
		if len(g) == 1 || len(g[0].index) != len(g[1].index) || g[0].tagged != g[1].tagged {
			out = append(out, g[0])
		}
		i = j
	}
	slices.SortFunc(out, func(a, b field) int { return slices.Compare(a.index, b.index) })
	return out
}

// validTagName reports whether a `json` tag name is usable, as encoding/json
// judges it: letters, digits and a set of punctuation.
func validTagName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}
