//go:build linux

package redis

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// rcvLowat sets SO_RCVLOWAT on a TCP connection (lowat.go); on other
// connections, and where the kernel refuses it, it does nothing.
type rcvLowat struct {
	rc  syscall.RawConn // set once, before the reader starts
	cur atomic.Int32    // the wait set last; nudge lowers it to 1
	off bool            // the reader's: the kernel refused it
}

func newRcvLowat(c net.Conn) *rcvLowat {
	l := &rcvLowat{}
	l.cur.Store(1)
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return l // TLS counts bytes the reader does not see; Unix sockets ignore it
	}
	if rc, err := tc.SyscallConn(); err == nil {
		l.rc = rc
	}
	return l
}

// set makes the kernel wake the reader once n bytes are in. Only the
// reader calls it.
func (l *rcvLowat) set(n int) {
	if l.rc == nil || l.off || int32(n) == l.cur.Load() {
		return
	}
	if !l.setsockopt(n) {
		if l.cur.Load() == 1 {
			l.off = true // not supported (or closed): wake at every byte from now on
		}
		return // else try again at the next read: the wait may not be left high
	}
	l.cur.Store(int32(n))
}

func (l *rcvLowat) setsockopt(n int) bool {
	var err error
	cerr := l.rc.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, n)
	})
	return cerr == nil && err == nil
}

// nudge reports whether the reader waits for more than a byte while
// bytes are in; it then makes the kernel wake the reader for them (the
// kernel wakes a reader whose wait is lowered below what is in). Any
// goroutine may call it.
func (l *rcvLowat) nudge() bool {
	if l.rc == nil || l.cur.Load() <= 1 || !l.pending() {
		return false
	}
	if l.setsockopt(1) {
		l.cur.Store(1)
	}
	return true
}

// pending reports whether bytes are in that the reader has not read. Any
// goroutine may call it.
func (l *rcvLowat) pending() bool {
	if l.rc == nil {
		return false
	}
	n := 0
	if err := l.rc.Control(func(fd uintptr) {
		n, _ = unix.IoctlGetInt(int(fd), unix.SIOCINQ)
	}); err != nil {
		return false
	}
	return n > 0
}

// resume reports whether err, the reader's read error, is its read
// deadline passing while it waited for more than a byte with bytes in:
// replies are coming, only slower than the wait assumed, so this is no
// stall. It then makes the reader wake at the next byte again; the
// caller extends the deadline and reads on.
func (l *rcvLowat) resume(err error) bool {
	if l.cur.Load() <= 1 || !errors.Is(err, os.ErrDeadlineExceeded) || !l.pending() {
		return false
	}
	l.set(1)
	return true
}
