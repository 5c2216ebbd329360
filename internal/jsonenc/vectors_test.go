package jsonenc

import (
	"bytes"
	"strings"
	"testing"

	"github.com/eventpub/eventpub/internal/vectors"
)

func loadVectors(tb testing.TB) []vectors.Vector {
	tb.Helper()
	vs, err := vectors.Load()
	if err != nil {
		tb.Fatal(err)
	}
	return vs
}

// decodeInput reads a vector's input by the file's input_rule.
func decodeInput(tb testing.TB, v vectors.Vector) any {
	tb.Helper()
	m, err := v.Decode()
	if err != nil {
		tb.Fatal(err)
	}
	if m == nil {
		return nil
	}
	return m
}

// The full envelopes are checked through the Publisher by the root
// package's TestCodeWormVectors; here each vector checks the part the
// encoder writes.
func TestCodeWormVectors(t *testing.T) {
	vectors := loadVectors(t)
	if len(vectors) != 64 {
		t.Errorf("got %d vectors, want 64", len(vectors))
	}
	for _, v := range vectors {
		t.Run(v.Name, func(t *testing.T) {
			input := decodeInput(t, v)
			switch v.Method {
			case "event":
				if input != nil {
					part := Append(nil, input)
					want := `,"data":` + string(part) + "}"
					if !strings.HasSuffix(v.Payload, want) {
						t.Errorf("data %s is not the data part of %s", part, v.Payload)
					}
				}
			case "stats":
				fields := AppendFields(nil, input.(map[string]any), "timestamp", true)
				if !strings.HasSuffix(v.Payload, string(fields)+"}") {
					t.Errorf("fields %s are not the tail of %s", fields, v.Payload)
				}
			case "log":
				// Go maps have no order: encode several times to see that
				// the sorted output does not depend on iteration order.
				for range 5 {
					if got := Append(nil, input); string(got) != v.Payload {
						t.Fatalf("payload\n got %s\nwant %s", got, v.Payload)
					}
				}
			default:
				t.Fatalf("unknown method %q", v.Method)
			}
		})
	}
}

// TestVectorsHotPathAllocs checks the claim the Publisher relies on: a
// map[string]any of strings, numbers and bools encodes without allocating.
func TestVectorsHotPathAllocs(t *testing.T) {
	for _, v := range loadVectors(t) {
		input, ok := decodeInput(t, v).(map[string]any)
		if !ok || !flat(input) {
			continue
		}
		buf := make([]byte, 0, 1024)
		allocs := testing.AllocsPerRun(50, func() {
			buf = AppendFields(buf[:0], input, "timestamp", true)
			buf = Append(buf[:0], input)
		})
		if allocs != 0 {
			t.Errorf("%s: %.1f allocs per encoding, want 0", v.Name, allocs)
		}
		if !bytes.Equal(buf, Append(nil, input)) {
			t.Errorf("%s: reused buffer gave %s", v.Name, buf)
		}
	}
}

func flat(m map[string]any) bool {
	for _, v := range m {
		switch v.(type) {
		case nil, string, bool, int64, uint64, float64:
		default:
			return false
		}
	}
	return true
}
