package dashboard

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// A gathered write that outlasts the timeout fails and marks the
// connection stuck; one that fails for another reason does not.
func TestCorkedWriteTimeout(t *testing.T) {
	a, b := net.Pipe() // b never reads: a's writes block
	defer b.Close()
	c := &corkConn{Conn: a, timeout: 50 * time.Millisecond}
	c.cork()
	if _, err := c.Write(make([]byte, 100)); err != nil {
		t.Fatalf("a corked write: %v", err)
	}
	if c.stuck() {
		t.Fatal("stuck before any write reached the connection")
	}
	done := make(chan error, 1)
	go func() { done <- c.uncork() }()
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("uncork: %v, want a deadline error", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("uncork did not return within 20s")
	}
	if !c.stuck() {
		t.Fatal("a write that timed out did not mark the connection stuck")
	}

	a2, b2 := net.Pipe()
	b2.Close()
	c2 := &corkConn{Conn: a2, timeout: 10 * time.Second}
	c2.cork()
	_, _ = c2.Write(make([]byte, 100))
	if err := c2.uncork(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("uncork to a closed peer: %v, want an error other than a timeout", err)
	}
	if c2.stuck() {
		t.Fatal("a closed connection was taken for a stuck one")
	}
	a2.Close()
	a.Close()
}
