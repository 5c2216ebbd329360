package jsonenc

import (
	"bytes"
	"encoding/json"
	"testing"
)

// vectorInput returns the decoded input of the named vector.
func vectorInput(tb testing.TB, name string) map[string]any {
	tb.Helper()
	for _, v := range loadVectors(tb) {
		if v.Name == name {
			m, ok := decodeInput(tb, v).(map[string]any)
			if !ok {
				tb.Fatalf("vector %s: input is not an object", name)
			}
			return m
		}
	}
	tb.Fatalf("vector %s missing", name)
	return nil
}

// BenchmarkEventCommitted encodes the event_committed vector's data map into
// a reused buffer, with this package and with encoding/json.
func BenchmarkEventCommitted(b *testing.B) {
	benchmarkMap(b, vectorInput(b, "event_committed"))
}

// BenchmarkStatsNested encodes the stats_basic vector (a nested map and a
// list) the same ways.
func BenchmarkStatsNested(b *testing.B) {
	benchmarkMap(b, vectorInput(b, "stats_basic"))
}

func benchmarkMap(b *testing.B, data map[string]any) {
	b.Run("jsonenc.AppendFields", func(b *testing.B) {
		buf := make([]byte, 0, 1024)
		b.ReportAllocs()
		for b.Loop() {
			buf = append(buf[:0], '{')
			buf = AppendFields(buf, data, "", false)
			buf = append(buf, '}')
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("jsonenc.Append", func(b *testing.B) {
		buf := make([]byte, 0, 1024)
		b.ReportAllocs()
		for b.Loop() {
			buf = Append(buf[:0], data)
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("encoding-json", func(b *testing.B) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		b.ReportAllocs()
		for b.Loop() {
			buf.Reset()
			if err := enc.Encode(data); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(buf.Len()))
	})
}
