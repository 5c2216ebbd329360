package sendq

import "sync"

// fifo is the queue's FIFO of entries: a list of fixed-size segments, so
// that it grows and shrinks with what it holds without copying entries
// (a burst into an empty queue copies none), and emptied segments are
// reused through a pool.
type fifo struct {
	segs []*segment // segs[0] holds the front, from head on
	head int
	n    int
}

// segLen is the entries of one segment (20 KiB).
const segLen = 512

type segment [segLen]entry

var segments = sync.Pool{New: func() any { return new(segment) }}

// pushBack adds e at the back.
func (f *fifo) pushBack(e entry) {
	i := f.head + f.n
	if i/segLen == len(f.segs) {
		f.segs = append(f.segs, segments.Get().(*segment))
	}
	f.segs[i/segLen][i%segLen] = e
	f.n++
}

// pushFront adds e at the front.
func (f *fifo) pushFront(e entry) {
	if f.head == 0 {
		f.segs = append(f.segs, nil)
		copy(f.segs[1:], f.segs)
		f.segs[0] = segments.Get().(*segment)
		f.head = segLen
	}
	f.head--
	f.segs[0][f.head] = e
	f.n++
}

// popFrontTo moves up to k entries from the front to the end of dst, in
// order, and returns dst: a segment's run at a time, as popFront would
// one by one.
func (f *fifo) popFrontTo(dst []entry, k int) []entry {
	for k > 0 && f.n > 0 {
		s := f.segs[0]
		run := min(k, f.n, segLen-f.head)
		dst = append(dst, s[f.head:f.head+run]...)
		clear(s[f.head : f.head+run])
		k -= run
		f.advance(run)
	}
	return dst
}

// popFront removes and returns the front entry; f must not be empty.
func (f *fifo) popFront() entry {
	s := f.segs[0]
	e := s[f.head]
	s[f.head] = entry{}
	f.advance(1)
	return e
}

// advance drops the n front entries of the front segment, cleared
// already, and gives the segment back once it is used up.
func (f *fifo) advance(n int) {
	f.head += n
	f.n -= n
	if f.head == segLen || f.n == 0 {
		// The front segment is used up (or the FIFO empty, and then
		// its slots from head on are clear too): give it back.
		segments.Put(f.segs[0])
		k := copy(f.segs, f.segs[1:])
		f.segs[k] = nil
		f.segs = f.segs[:k]
		f.head = 0
	}
}
