// Package vectors loads the wire-format test vectors recorded from
// CodeWorm's own publisher, kept in the module's testdata/codeworm_vectors.json
// (copied unchanged from the project's shared/testdata).
package vectors

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Vector is one recorded publish: the input CodeWorm was given and the
// exact bytes it sent.
type Vector struct {
	Name      string `json:"name"`
	Method    string `json:"method"` // "log", "event" or "stats"
	Now       string `json:"now"`    // the clock, as isoformat()
	Input     string `json:"input"`  // JSON text; see Decode
	Channel   string `json:"channel"`
	Payload   string `json:"payload"` // the bytes sent
	EventType string `json:"event_type"`
}

// Clock returns the vector's clock reading as a local wall time.
func (v Vector) Clock() (time.Time, error) {
	return time.ParseInLocation("2006-01-02T15:04:05.999999", v.Now, time.Local)
}

// Decode returns the input as a map by the file's input_rule: a number
// with '.', 'e' or 'E' is a float64, any other an int64 (uint64 when it
// does not fit). "null" gives a nil map.
func (v Vector) Decode() (map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(v.Input))
	d.UseNumber()
	var raw any
	if err := d.Decode(&raw); err != nil {
		return nil, fmt.Errorf("vector %s: input: %w", v.Name, err)
	}
	if raw == nil {
		return nil, nil
	}
	m, ok := convert(raw).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("vector %s: input is not an object", v.Name)
	}
	return m, nil
}

func convert(x any) any {
	switch x := x.(type) {
	case json.Number:
		s := x.String()
		if strings.ContainsAny(s, ".eE") {
			f, _ := x.Float64()
			return f
		}
		if i, err := x.Int64(); err == nil {
			return i
		}
		n, _ := new(big.Int).SetString(s, 10)
		return n.Uint64()
	case map[string]any:
		for k, v := range x {
			x[k] = convert(v)
		}
	case []any:
		for i, v := range x {
			x[i] = convert(v)
		}
	}
	return x
}

// Load reads the vectors from testdata/codeworm_vectors.json at the module's
// root, found by walking up from the working directory to the go.mod.
func Load() ([]Vector, error) {
	dir, err := os.Getwd()
	if err != nil {
		return nil, err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "testdata", "codeworm_vectors.json")
			data, err := os.ReadFile(p)
			if err != nil {
				return nil, fmt.Errorf("CodeWorm vectors: %w", err)
			}
			var f struct{ Vectors []Vector }
			if err := json.NewDecoder(bytes.NewReader(data)).Decode(&f); err != nil {
				return nil, fmt.Errorf("%s: %w", p, err)
			}
			if len(f.Vectors) == 0 {
				return nil, fmt.Errorf("%s: no vectors", p)
			}
			return f.Vectors, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, fmt.Errorf("CodeWorm vectors: no go.mod above the working directory")
		}
		dir = parent
	}
}
