// Package bufpool recycles the byte buffers messages are encoded into, so
// that a publish allocates none in the steady state. The Publisher encodes
// into one; the async queue (package sendq) keeps a compact copy of the
// payload and gives the buffer back at once.
package bufpool

import "sync"

// maxKept is the largest buffer Put keeps: one big message must not pin
// memory forever.
const maxKept = 64 << 10

var pool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

// Get returns an empty buffer.
func Get() *[]byte {
	b := pool.Get().(*[]byte)
	*b = (*b)[:0]
	return b
}

// Put recycles b unless it grew over 64 KiB. b must not be used after.
func Put(b *[]byte) {
	if cap(*b) <= maxKept {
		pool.Put(b)
	}
}
