package redis

// How often the reader wakes. Redis answers a deep pipeline a few dozen
// replies at a time (one write per pass of its event loop), and waking
// the reader goroutine for each of those writes cost the client more CPU
// than parsing and delivering the replies together: an async publisher
// with thousands of requests in flight spent about 40% of its CPU on
// those wake-ups. On Linux the reader therefore asks the kernel, through
// SO_RCVLOWAT on its TCP socket, not to wake it before a number of bytes
// is in that the replies still owed are sure to add up to: every reply is
// a line of at least minReply bytes, so n replies owed, of which buffered
// bytes are already read, bring at least n*minReply-buffered more. The
// reader is never left waiting for bytes that will not come; a closed or
// reset connection and the read deadline wake it as before. Replies that
// come slower than the read timeout allows for the bytes it waits for are
// no stall: when the deadline passes with bytes in, the reader goes back
// to waking at every byte and reads on (rcvLowat.resume), and a caller
// whose deadline passes does not fail the connection as stalled while
// reply bytes wait unread (rcvLowat.pending).
//
// With few replies owed (a synchronous caller's, or a few dozen callers')
// the reader wakes at the first byte, as a latency-bound caller wants.

const (
	// minReply is the shortest reply line: a type byte and CRLF.
	minReply = 3
	// lowatFrom is the replies owed from which the reader waits for more
	// than a byte: only deep pipelines, an async batch's.
	lowatFrom = 256
	// lowatMax caps the bytes the reader waits for (about 1000 replies),
	// so that a batch's caller hears of it while the next batches are in
	// flight; 2, 4 and 8 KiB measured the same CPU per message, 1 KiB 15%
	// more.
	lowatMax = 4 << 10
	// lowatStep: the wait is a multiple of it, so that it is not set
	// again for every change in what is owed.
	lowatStep = 256
)

// wakeAfter returns the bytes the reader waits for, with owed replies
// owed and buffered bytes of them already read: 1 (any byte) when few are
// owed, else a lower bound of what is still to come, capped at lowatMax.
func wakeAfter(owed, buffered int) int {
	if owed < lowatFrom {
		return 1
	}
	n := min(owed*minReply-buffered, lowatMax)
	return max(1, n-n%lowatStep)
}
