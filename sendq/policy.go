package sendq

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/eventpub/eventpub/observe"
)

// Policy decides what a Queue does with a message when it is full.
type Policy int

const (
	// DropNewest rejects the message being pushed: the call returns
	// ErrQueueFull and the message is counted as dropped.
	DropNewest Policy = iota
	// DropOldest makes room by dropping the oldest message still waiting
	// and counts it. A message being sent is never dropped: when every
	// queued message is being sent, the new one is dropped as by DropNewest.
	DropOldest
	// Block waits for room until the caller's context ends; a message that
	// gets none is counted as dropped and the call returns ctx.Err().
	Block
)

// String returns "DropNewest", "DropOldest" or "Block".
func (p Policy) String() string {
	switch p {
	case DropNewest:
		return "DropNewest"
	case DropOldest:
		return "DropOldest"
	case Block:
		return "Block"
	}
	return fmt.Sprintf("OverflowPolicy(%d)", int(p))
}

// ErrQueueFull is returned by a push when the queue has no room and the
// policy drops the new message; the message is counted as dropped.
var ErrQueueFull = errors.New("eventpub: queue full, message dropped")

// Defaults used where Config leaves a field zero.
const (
	DefaultMaxBatch   = 256
	DefaultErrorEvery = time.Second
)

// BatchSizer is implemented by a transport that sends batches of another
// size best: a Queue whose Config.MaxBatch is zero makes its batches of
// up to PreferredBatch messages (when it is at least 1) instead of
// DefaultMaxBatch. A size above DefaultMaxBatch is kept to an eighth of
// the capacity, but not below DefaultMaxBatch: a batch being sent cannot
// be dropped, so a larger one would leave DropOldest less to drop while
// the broker is down.
type BatchSizer interface {
	PreferredBatch() int
}

// Config configures a Queue.
type Config struct {
	// Capacity bounds the messages held, those being sent included. It
	// must be at least 1.
	Capacity int
	// Policy says what a push does when the queue is full.
	Policy Policy
	// MaxBatch bounds a batch; a batch is also at most half the capacity,
	// so DropOldest finds a waiting message to drop. Zero means the
	// transport's PreferredBatch when it is a BatchSizer, else
	// DefaultMaxBatch.
	MaxBatch int
	// Observer hears every message's fate, the queue's depth and the
	// link's state; nil for none. The queue keeps its own counters too
	// (Queue.Counters).
	Observer observe.Observer
	// ErrorHandler hears about failures the pushing caller cannot see
	// (drops, failed and retried sends), through an observe.ErrorReporter:
	// on a goroutine of its own, at most once per ErrorEvery.
	ErrorHandler func(error)
	// ErrorEvery is the ErrorHandler's interval (default 1 s).
	ErrorEvery time.Duration
}

// Validate returns every setting that cannot work, joined.
func (c Config) Validate() error {
	var bad []string
	if c.Capacity < 1 {
		bad = append(bad, fmt.Sprintf("capacity must be at least 1, got %d", c.Capacity))
	}
	if c.Policy < DropNewest || c.Policy > Block {
		bad = append(bad, fmt.Sprintf("unknown overflow policy %v", c.Policy))
	}
	if c.MaxBatch < 0 {
		bad = append(bad, fmt.Sprintf("max batch %d is negative", c.MaxBatch))
	}
	if c.ErrorEvery < 0 {
		bad = append(bad, fmt.Sprintf("error interval %v is negative", c.ErrorEvery))
	}
	if len(bad) > 0 {
		return errors.New("eventpub/sendq: " + strings.Join(bad, "; "))
	}
	return nil
}
