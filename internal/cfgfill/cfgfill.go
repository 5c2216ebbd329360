// Package cfgfill gives every driver's WithConfig option the same meaning:
// each field the given Config sets (is not its type's zero value) replaces
// the current one; each field it leaves zero keeps what the URL or an
// earlier option gave, or else the default.
package cfgfill

import "reflect"

// Set copies every top-level field of src that is not zero into *dst. A
// struct, slice, map or pointer field counts as set when it is not its
// zero value, and is then copied whole. T must be a struct type.
func Set[T any](dst *T, src T) {
	d := reflect.ValueOf(dst).Elem()
	s := reflect.ValueOf(src)
	for i := range s.NumField() {
		if f := s.Field(i); !f.IsZero() {
			d.Field(i).Set(f)
		}
	}
}
