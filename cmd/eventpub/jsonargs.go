package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// decodeObject decodes one JSON object the way CodeWorm's inputs are read:
// numbers with '.', 'e' or 'E' become float64, other numbers int64 (uint64
// when they do not fit), so the publisher sends the bytes CodeWorm would.
// "null" and empty input give a nil map. Anything but one object is an
// error naming what is wrong.
func decodeObject(data []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, jsonError(data, err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("malformed JSON: unexpected data after the object at byte %d", d.InputOffset()+1)
	}
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("JSON must be an object {…}, got %s", kindOf(v))
	}
	if err := convertNumbers(m); err != nil {
		return nil, err
	}
	return m, nil
}

// jsonError turns a decoder error into a short message with a byte offset.
func jsonError(data []byte, err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return fmt.Errorf("malformed JSON at byte %d: %s", se.Offset, se.Error())
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return fmt.Errorf("malformed JSON: input ends after %d bytes, in the middle of a value", len(data))
	}
	return fmt.Errorf("malformed JSON: %v", err)
}

func kindOf(v any) string {
	switch v.(type) {
	case []any:
		return "an array"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	}
	return fmt.Sprintf("%T", v)
}

// convertNumbers replaces every json.Number inside x, in place.
func convertNumbers(x any) error {
	switch x := x.(type) {
	case map[string]any:
		for k, v := range x {
			n, err := convertValue(v)
			if err != nil {
				return err
			}
			x[k] = n
		}
	case []any:
		for i, v := range x {
			n, err := convertValue(v)
			if err != nil {
				return err
			}
			x[i] = n
		}
	}
	return nil
}

func convertValue(v any) (any, error) {
	n, ok := v.(json.Number)
	if !ok {
		return v, convertNumbers(v)
	}
	s := n.String()
	if strings.ContainsAny(s, ".eE") {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("number %s is out of the float64 range", s)
		}
		return f, nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i, nil
	}
	if u, err := strconv.ParseUint(s, 10, 64); err == nil {
		return u, nil
	}
	return nil, fmt.Errorf("integer %s does not fit in 64 bits", s)
}
