package redis

// How often the reader wakes. Redis answers a deep pipeline a few dozen
// replies at a time (one write per pass of its event loop), and waking
// the reader goroutine for each of those writes cost the client more CPU
// than parsing and delivering the replies together (an async publisher
// spends about 25% less CPU per message without those wake-ups, in
// BenchmarkCompareAsync/async). No caller can be woken before every reply of the first
// one in line (the front of what is in flight: a batch, or a single
// caller) is in, so on Linux the reader asks the kernel, through
// SO_RCVLOWAT on its TCP socket, not to wake it before a number of bytes
// is in that those replies are sure to bring: the reader sleeps only when
// the first of them is incomplete (its '\n' at least is still to come)
// and each other reply is a line of at least minReply bytes. The reader
// is never left waiting for bytes that will not come, and a caller whose
// replies are all in is woken as before; a closed or reset connection and
// the read deadline wake it too.
//
// Replies that come slower than the read timeout allows for the bytes it
// waits for are no stall: when the deadline passes with bytes in, the
// reader goes back to waking at every byte and reads on
// (rcvLowat.resume). A caller whose own deadline passes with no reply read
// since it queued judges the connection stalled, as before, unless the
// reader sleeps in a read waiting for more bytes than are in: then it
// wakes the reader for what is in (rcvLowat.nudge), and the next caller's
// deadline judges.
//
// With few replies owed by the first caller in line (a synchronous
// caller's, a small batch's) the reader wakes at the first byte.

const (
	// minReply is the shortest reply line: a type byte and CRLF.
	minReply = 3
	// lowatFrom is the replies the first caller in line must owe for the
	// reader to wait for more than a byte: only batches.
	lowatFrom = 64
	// lowatMax caps the bytes the reader waits for (about 1000 replies
	// to PUBLISH), so that the queue behind a long batch is written
	// while its replies come; 2, 4 and 8 KiB measured the same CPU per
	// message, 1 KiB 15% more.
	lowatMax = 4 << 10
	// lowatStep: the wait is a multiple of it, so that it is not set
	// again for every change in what is owed.
	lowatStep = 64
)

// wakeAfter returns the bytes the reader waits for when the first caller
// in line owes owed replies: 1 (any byte) when they are few, else the
// fewest bytes they bring once the reader found the first incomplete,
// capped at lowatMax.
func wakeAfter(owed int) int {
	if owed < lowatFrom {
		return 1
	}
	n := min(1+(owed-1)*minReply, lowatMax)
	return max(1, n-n%lowatStep)
}
