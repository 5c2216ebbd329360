//go:build linux

package redis

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"

	"golang.org/x/sys/unix"
)

// rcvLowat sets SO_RCVLOWAT on a TCP connection (lowat.go); on other
// connections, and where the kernel refuses it, it does nothing.
type rcvLowat struct {
	rc syscall.RawConn // set once, before the reader starts
	// mu makes setting the wait and recording it one step, for the
	// reader's set and a caller's nudge alike.
	mu  sync.Mutex
	cur int  // the wait the kernel has
	off bool // the kernel refused it: wake at every byte
	// inRead: the reader is in readReply, where it sleeps on the wait
	// (not, say, in a write).
	inRead atomic.Bool
}

func newRcvLowat(c net.Conn) *rcvLowat {
	l := &rcvLowat{cur: 1}
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
	if l.rc == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.off || n == l.cur {
		return
	}
	if !l.setsockopt(n) {
		if l.cur == 1 {
			l.off = true // not supported (or closed): wake at every byte from now on
		}
		return // else try again at the next read: the wait may not be left high
	}
	l.cur = n
}

func (l *rcvLowat) setsockopt(n int) bool {
	var err error
	cerr := l.rc.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, n)
	})
	return cerr == nil && err == nil
}

// reading tells whether the reader is in readReply; only the reader
// calls it.
func (l *rcvLowat) reading(in bool) { l.inRead.Store(in) }

// nudge reports whether the reader sleeps on a wait of more than a byte,
// in readReply, while bytes are in; it then lowers the wait to 1, which
// makes the kernel wake the reader for them. Any goroutine may call it.
func (l *rcvLowat) nudge() bool {
	if l.rc == nil || !l.inRead.Load() {
		return false // a reader elsewhere (in a write, say) is not woken by bytes
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur <= 1 || !l.pending() {
		return false
	}
	if l.setsockopt(1) {
		l.cur = 1
	}
	return true
}

// pending reports whether bytes are in that the reader has not read.
func (l *rcvLowat) pending() bool {
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
	if l.rc == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	l.mu.Lock()
	raised := l.cur > 1
	l.mu.Unlock()
	if !raised || !l.pending() {
		return false
	}
	l.set(1)
	return true
}
