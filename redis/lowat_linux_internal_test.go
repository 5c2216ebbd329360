//go:build linux

package redis

import (
	"net"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/internal/brokertest"
	"golang.org/x/sys/unix"
)

// The reader's set and a caller's nudge at once leave the kernel's wait
// as rcvLowat records it: were the kernel's wait left above the record,
// the reader's next set(1) would be skipped and it would sleep for bytes
// that never come.
func TestSetAndNudgeAgree(t *testing.T) {
	c, s := tcpPair(t)
	if _, err := s.Write([]byte(":1\r\n")); err != nil { // bytes in, never read
		t.Fatal(err)
	}
	l := newRcvLowat(c)
	if l.rc == nil {
		t.Fatal("no SO_RCVLOWAT on a TCP connection")
	}
	kernel := func() int {
		v := 0
		_ = l.rc.Control(func(fd uintptr) { v, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT) })
		return v
	}
	l.reading(true)
	for i := range 5000 {
		l.set(2944)
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() { <-start; l.set(1472) })
		wg.Go(func() { <-start; l.nudge() })
		close(start)
		wg.Wait()
		l.mu.Lock()
		cur := l.cur
		l.mu.Unlock()
		if k := kernel(); k != cur {
			t.Fatalf("iteration %d: the kernel waits for %d bytes, rcvLowat records %d", i, k, cur)
		}
	}
}

// A caller's nudge excuses the deadline only while the reader sleeps in
// readReply on a raised wait with bytes in: a reader stuck elsewhere (in
// a write) is not woken by bytes, so the caller must judge the stall.
func TestNudgeOnlyWakesAReaderInRead(t *testing.T) {
	c, s := tcpPair(t)
	l := newRcvLowat(c)
	l.set(2944)
	l.reading(true)
	if l.nudge() {
		t.Fatal("nudge with no bytes in excused the deadline")
	}
	if _, err := s.Write([]byte(":1\r\n")); err != nil {
		t.Fatal(err)
	}
	brokertest.WaitFor(t, 10*time.Second, "the reply bytes to arrive", l.pending)
	l.reading(false)
	if l.nudge() {
		t.Fatal("nudge excused the deadline while the reader was not in readReply")
	}
	l.reading(true)
	if !l.nudge() {
		t.Fatal("nudge did not excuse the deadline of a reader asleep on 2944 bytes with bytes in")
	}
	if l.cur != 1 {
		t.Fatalf("after nudge the wait is %d, want 1", l.cur)
	}
}

// tcpPair returns both ends of a loopback TCP connection, closed when the
// test ends.
func tcpPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Close() })
	return client, server
}
