package observe

import "sync/atomic"

// Counters is the Observer that counts: the counters behind
// Publisher.Metrics, bridge.Stats and tee.TargetStats. Its zero value is
// ready; it is safe for concurrent use and allocates nothing.
type Counters struct {
	Nop
	accepted, published, dropped, failed, retried atomic.Uint64
}

var _ Observer = (*Counters)(nil)

// Snapshot is one reading of Counters. Accepted = Published + Dropped +
// Failed + Queued holds in every snapshot of a part that counts its
// messages as accepted first (a Publisher, a queue, a bridge).
type Snapshot struct {
	// Accepted counts messages a publish call took: valid, encoded, and
	// handed to the transport or the queue.
	Accepted uint64
	// Published counts messages the broker confirmed (see
	// eventpub.Metrics for what confirmed means on each driver).
	Published uint64
	// Dropped counts messages an overflow policy discarded.
	Dropped uint64
	// Failed counts messages refused for good, those Close could not
	// deliver, and in sync mode every publish that returned an error.
	Failed uint64
	// Queued counts messages accepted but not settled yet: waiting in the
	// async queue, being sent, or waiting for room in it.
	Queued uint64
}

// Accepted counts o.Count accepted messages.
func (c *Counters) Accepted(o Outcome) { c.accepted.Add(uint64(o.Count)) }

// Published counts o.Count published messages.
func (c *Counters) Published(o Outcome) { c.published.Add(uint64(o.Count)) }

// Dropped counts o.Count dropped messages.
func (c *Counters) Dropped(o Outcome) { c.dropped.Add(uint64(o.Count)) }

// Failed counts o.Count failed messages.
func (c *Counters) Failed(o Outcome) { c.failed.Add(uint64(o.Count)) }

// Retried counts o.Count retried messages.
func (c *Counters) Retried(o Outcome) { c.retried.Add(uint64(o.Count)) }

// Retries counts failed tries that were repeated, each message of a
// retried batch once per try.
func (c *Counters) Retries() uint64 { return c.retried.Load() }

// Snapshot returns the counters. Accepted is read last: every message is
// counted there before anywhere else, so Queued never goes negative.
func (c *Counters) Snapshot() Snapshot {
	s := Snapshot{
		Published: c.published.Load(),
		Dropped:   c.dropped.Load(),
		Failed:    c.failed.Load(),
	}
	s.Accepted = c.accepted.Load()
	if settled := s.Published + s.Dropped + s.Failed; s.Accepted > settled {
		s.Queued = s.Accepted - settled
	}
	return s
}
