package sendq

// The queue keeps each payload as a compact copy in an arena of large
// chunks, not in the buffer it was encoded into: a queued message then
// costs its payload and its entry, whatever the size of the buffer that
// brought it. Chunks hold no pointers, so the collector does not scan
// them, and an emptied chunk is reused through a sync.Pool shared by all
// queues: in the steady state a push allocates nothing, and the chunks a
// drained backlog leaves go back to the collector.

import (
	"encoding/binary"
	"sync"
)

const (
	// chunkSize is the payload bytes of one shared chunk.
	chunkSize = 64 << 10
	// maxShared is the largest payload copied into a shared chunk; a
	// larger one gets a chunk of its own, of its exact size, so that the
	// end of a chunk it does not fit in wastes little.
	maxShared = chunkSize / 8
)

// chunks holds emptied shared chunks for reuse.
var chunks = sync.Pool{New: func() any { return &chunk{data: make([]byte, chunkSize)} }}

// chunk holds the payloads of queued messages back to back.
type chunk struct {
	data []byte // fixed once made: readers index it without the lock
	used int    // bytes of data handed out
	live int    // payloads in data not released yet
	own  bool   // one payload, of len(data) bytes
	at   int64  // own: the payload's stamp
	// stamped: each payload in data follows its stamp (shared chunks)
	stamped bool
}

// stampSize is the room a stamp takes before its payload in a shared chunk.
const stampSize = 8

// arena hands out payload copies in chunks. Its owner serializes every
// call (the queue does, under its mutex); readers of a payload it handed
// out need no lock, as a chunk's bytes are not reused before every
// payload in it is released.
type arena struct {
	cur     *chunk // the shared chunk being filled
	stamped bool   // put keeps a stamp with each payload
}

// put copies p into the arena and returns where it is; when the arena is
// stamped, at is kept with it (see stamp). Release it with release once it
// is no longer read.
func (a *arena) put(p []byte, at int64) (c *chunk, off, n uint32) {
	if len(p) > maxShared {
		c = &chunk{data: make([]byte, len(p)), used: len(p), live: 1, own: true, at: at}
		copy(c.data, p)
		return c, 0, 0
	}
	need := len(p)
	if a.stamped {
		need += stampSize
	}
	c = a.cur
	if c == nil || len(c.data)-c.used < need {
		c = a.fresh()
		a.cur = c
	}
	if a.stamped {
		binary.LittleEndian.PutUint64(c.data[c.used:], uint64(at))
		c.used += stampSize
	}
	off = uint32(c.used)
	c.used += copy(c.data[c.used:], p)
	c.live++
	return c, off, uint32(len(p))
}

// fresh returns an empty shared chunk.
func (a *arena) fresh() *chunk {
	c := chunks.Get().(*chunk)
	c.used, c.live, c.stamped = 0, 0, a.stamped
	return c
}

// release gives back one payload that put returned in c. An emptied chunk
// is reused: at once when it is the one being filled, else through the
// pool.
func (a *arena) release(c *chunk) {
	c.live--
	if c.live > 0 || c.own {
		return
	}
	c.used = 0
	if c != a.cur {
		chunks.Put(c)
	}
}

// drop gives the chunk being filled back to the pool when it holds no
// payload; the arena may be used again after.
func (a *arena) drop() {
	if c := a.cur; c != nil && c.live == 0 {
		a.cur = nil
		chunks.Put(c)
	}
}

// bytes returns the payload at off, n in c.
func (c *chunk) bytes(off, n uint32) []byte {
	if c.own {
		return c.data
	}
	return c.data[off : off+n : off+n]
}

// stamp returns the at that put kept with the payload at off in c, or 0
// when the arena was not stamped.
func (c *chunk) stamp(off uint32) int64 {
	if c.own || !c.stamped {
		return c.at
	}
	return int64(binary.LittleEndian.Uint64(c.data[off-stampSize : off]))
}
