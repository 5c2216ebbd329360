package jsonenc_test

import (
	"fmt"
	"math"
	"time"

	"github.com/eventpub/eventpub/internal/jsonenc"
)

func ExampleAppend() {
	out := jsonenc.Append(nil, map[string]any{
		"tokens":  1834,
		"time_ms": 2310.5,
		"ratio":   1e-6,
		"whole":   100.0,
		"nan":     math.NaN(),
		"html":    "<a & b>",
		"took":    1500 * time.Millisecond,
		"at":      time.Date(2026, 2, 19, 13, 29, 0, 123456000, time.UTC),
	})
	fmt.Println(string(out))
	// Output: {"at":"2026-02-19T13:29:00.123456+00:00","html":"<a & b>","nan":null,"ratio":1e-6,"time_ms":2310.5,"tokens":1834,"took":"1.5s","whole":100.0}
}

func ExampleAppendFields() {
	stats := map[string]any{"total_cycles": 12, "timestamp": "caller-supplied", "success_rate": 91.7}
	buf := []byte(`{"timestamp":`)
	buf = jsonenc.Append(buf, stats["timestamp"])
	buf = jsonenc.AppendFields(buf, stats, "timestamp", true)
	buf = append(buf, '}')
	fmt.Println(string(buf))
	// Output: {"timestamp":"caller-supplied","success_rate":91.7,"total_cycles":12}
}

func ExampleAppendString() {
	fmt.Println(string(jsonenc.AppendString(nil, "tab\there \"quoted\" \x01 café")))
	// Output: "tab\there \"quoted\" \u0001 café"
}
