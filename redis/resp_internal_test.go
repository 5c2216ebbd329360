package redis

import (
	"strconv"
	"testing"
)

// appendLen writes what strconv writes, on both sides of its fast path.
func TestAppendLen(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 99, 100, 180, 999, 1000, 9999, 10000, 123456, 1 << 40, -1} {
		if got, want := string(appendLen([]byte("x"), n)), "x"+strconv.Itoa(n); got != want {
			t.Errorf("appendLen(%d) = %q, want %q", n, got, want)
		}
	}
	for n := range 20000 {
		if got, want := string(appendLen(nil, n)), strconv.Itoa(n); got != want {
			t.Fatalf("appendLen(%d) = %q, want %q", n, got, want)
		}
	}
	if got := string(appendBulk(nil, "chan")); got != "$4\r\nchan\r\n" {
		t.Errorf("appendBulk = %q", got)
	}
}
