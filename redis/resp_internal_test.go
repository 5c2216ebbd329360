package redis

import (
	"bufio"
	"io"
	"strconv"
	"strings"
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

// readBuffered takes the whole replies buffered, leaves a partial one for
// the next read, and refuses a reply the publish connection cannot get.
func TestReadBuffered(t *testing.T) {
	r := bufio.NewReader(strings.NewReader(":1\r\n-ERR no\r\n+OK\r\n:2"))
	first, err := readReply(r) // fills the buffer
	if err != nil || first != nil {
		t.Fatalf("readReply = %v, %v", first, err)
	}
	reps, err := readBuffered(r, nil)
	if err != nil || len(reps) != 2 || reps[0] == nil || reps[0].Error() != "ERR no" || reps[1] != nil {
		t.Fatalf("readBuffered = %q, %v; want [ERR no, nil]", reps, err)
	}
	if rest, _ := io.ReadAll(r); string(rest) != ":2" {
		t.Fatalf("left %q, want the partial reply", rest)
	}
	r = bufio.NewReader(strings.NewReader(":1\r\n:2\r\n$3\r\nabc\r\n"))
	if _, err := readReply(r); err != nil {
		t.Fatal(err)
	}
	if reps, err := readBuffered(r, nil); err != errProtocol || len(reps) != 1 {
		t.Fatalf("readBuffered = %v, %v; want one reply, then errProtocol", reps, err)
	}
}
