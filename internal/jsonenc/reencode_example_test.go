package jsonenc_test

import (
	"fmt"

	"github.com/eventpub/eventpub/internal/jsonenc"
)

// Reencode writes a document the way orjson writes it back after reading it.
func ExampleReencode() {
	out, err := jsonenc.Reencode(nil, []byte(`{"b": 1.50, "a": "caf\u00e9", "b": 1E2}`), 0)
	fmt.Println(string(out), err)
	_, err = jsonenc.Reencode(nil, []byte(`{"x": NaN}`), 0)
	fmt.Println(err)
	// Output:
	// {"b":100.0,"a":"café"} <nil>
	// eventpub/jsonenc: unexpected character 'N' at byte 6
}
