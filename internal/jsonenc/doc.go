// Package jsonenc encodes Go values as JSON byte-identical to orjson with
// default=str, the encoder CodeWorm's Python publisher uses.
//
// Every function appends to a caller-owned buffer, never fails and never
// panics: a value JSON cannot hold is written as a string, the way
// default=str does. Encoding a map[string]any whose values are strings,
// numbers, bools or nil allocates nothing.
//
// # Output rules
//
//   - Compact: no space after ':' or ','.
//   - Strings: UTF-8 is written raw. Only '"', '\\', \b \t \n \f \r and
//     \u00xx (lower-case hex) for the other bytes below 0x20 are escaped;
//     '<', '>', '&', 0x7F, U+2028 and U+2029 are written raw. Each byte of a
//     Go string that is not valid UTF-8 becomes U+FFFD (a Python str is
//     always valid, so orjson never sees one), so the output is always valid
//     UTF-8.
//   - Objects: keys are sorted by code point (byte order for valid UTF-8).
//     Keys that are equal after U+FFFD replacement are both written, in the
//     byte order of their original form; map keys that fmt.Sprint prints
//     alike (1 and "1") are both written, ordered by their values' JSON.
//   - Floats: shortest digits that round-trip. Plain decimal when the
//     decimal exponent E of d.ddd×10^E is in −5…15, with ".0" on whole
//     numbers (0.0, -0.0, 100.0, 1000000000000000.0, 0.00001); exponent form
//     otherwise, without '+' and without ".0" (1e16, 9.99e-6, 5e-324).
//     NaN, +Inf and -Inf are null.
//   - Cycles and depth: a map, slice or pointer already being encoded higher
//     up the same branch is written as the string "<cycle>"; nesting deeper
//     than 1000 maps, slices and pointers is written as "<max depth>".
//
// # Go type to JSON
//
//	Go value                              JSON
//	nil, nil pointer/interface            null
//	nil map, nil slice (also []byte)      null
//	bool                                  true / false
//	int…int64, uint…uint64, uintptr       integer, full range
//	float64                               number (rules above)
//	float32                               number from float32 shortest digits (0.1 stays 0.1)
//	string                                string
//	json.Number                           as is when it is a valid JSON number, else a string
//	json.RawMessage                       compacted as is when valid JSON, else a string
//	[]byte (and named byte slices)        string of its bytes read as UTF-8
//	time.Time                             "2026-02-19T13:29:00.123456+00:00" (Python
//	                                      isoformat; ".ffffff" only when the microseconds
//	                                      are not zero; offset seconds when not zero)
//	error                                 string of Error()
//	fmt.Stringer                          string of String()
//	map[K]V                               object; non-string keys written with fmt.Sprint
//	slice, array                          array
//	pointer                               the value it points to
//	struct                                object of exported fields in declaration order
//	complex, chan, func, unsafe.Pointer   string of fmt.Sprint
//
// error and fmt.Stringer are checked before the kind of the value, so a
// time.Duration is "1.5s" and a net.IP is "127.0.0.1". A method that
// panics is reported inside the string the way fmt reports it.
//
// # Re-writing a document
//
// [Reencode] writes a JSON document again as orjson.dumps(orjson.loads(doc))
// would, member order kept, and refuses what orjson.loads refuses.
//
// # Structs
//
// Exported fields are written in declaration order. The `json` tag is
// honoured for the name, "-" (skip the field), "omitempty" (skip false, 0,
// "", nil and empty maps, slices and arrays) and "omitzero" (skip the zero
// value). Fields of embedded structs without a tag name are promoted as
// encoding/json does: the shallowest field wins, a tagged one breaks a tie,
// otherwise an ambiguous name is left out. The ",string" option is ignored.
package jsonenc
