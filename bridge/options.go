package bridge

import (
	"fmt"
	"strings"
	"time"

	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/sendq"
)

// Defaults used where no option says otherwise.
const (
	DefaultCapacity     = 10000
	DefaultDrainTimeout = 5 * time.Second
)

// Pause before reading the source again after an error: it starts at
// sourceBackoffMin and doubles up to sourceBackoffMax, with jitter.
const (
	sourceBackoffMin = 50 * time.Millisecond
	sourceBackoffMax = 5 * time.Second
)

// Option configures a Bridge.
type Option func(*config)

type config struct {
	patterns     bool
	capacity     int
	overflow     sendq.Policy
	drainTimeout time.Duration
	onError      func(error)
	observers    []observe.Observer
}

func defaultConfig() config {
	return config{capacity: DefaultCapacity, overflow: sendq.DropNewest, drainTimeout: DefaultDrainTimeout}
}

// validate names every setting that is out of range.
func (c *config) validate() error {
	var bad []string
	if c.capacity < 1 {
		bad = append(bad, fmt.Sprintf("capacity %d is below 1", c.capacity))
	}
	if c.overflow < sendq.DropNewest || c.overflow > sendq.Block {
		bad = append(bad, fmt.Sprintf("unknown overflow policy %v", c.overflow))
	}
	if c.drainTimeout < 0 {
		bad = append(bad, fmt.Sprintf("drain timeout %v is negative", c.drainTimeout))
	}
	if len(bad) > 0 {
		return fmt.Errorf("bridge: %s", strings.Join(bad, "; "))
	}
	return nil
}

// WithPatterns makes Start and Run read their names as patterns in the
// source broker's syntax, subscribed with transport.PatternSubscriber.
func WithPatterns() Option { return func(c *config) { c.patterns = true } }

// WithCapacity sets how many messages the queue holds, those being sent
// included. Default 10000.
func WithCapacity(n int) Option { return func(c *config) { c.capacity = n } }

// WithOverflow sets what happens to a message received while the queue is
// full: sendq.DropNewest (the default) drops it, sendq.DropOldest
// drops the oldest message still waiting, sendq.Block stops reading the
// source until there is room. Every drop is counted.
func WithOverflow(p sendq.Policy) Option { return func(c *config) { c.overflow = p } }

// WithDrainTimeout sets how long Run keeps sending what is queued after its
// context ends. Default 5 s.
func WithDrainTimeout(d time.Duration) Option { return func(c *config) { c.drainTimeout = d } }

// WithErrorHandler calls h with the errors the bridge meets: a source read
// that failed, a retried send, a message the target refused, a drop. It is
// called as the Publisher's handler is (an observe.ErrorReporter): on a
// goroutine of its own, at most once a second, with a count of the errors
// held back in between.
func WithErrorHandler(h func(error)) Option { return func(c *config) { c.onError = h } }

// WithObserver adds observers that hear what happens to every relayed
// message (see package observe): accepted (received), published (relayed),
// dropped, failed, retried, the queue's depth and the target link's state.
// Stats keeps counting either way.
func WithObserver(obs ...observe.Observer) Option {
	return func(c *config) { c.observers = append(c.observers, obs...) }
}
