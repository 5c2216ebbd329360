package tee

import (
	"fmt"
	"time"

	"github.com/eventpub/eventpub/observe"
)

// errorEvery is how often at most the error handler runs.
const errorEvery = time.Second

// SecondaryFailure says what a failing secondary target does to a call.
type SecondaryFailure int

const (
	// CountAndContinue counts the failure in the secondary's TargetStats,
	// reports it to the error handler and lets the call succeed when the
	// primary did. It is the default: during a migration the old broker
	// stays the source of truth.
	CountAndContinue SecondaryFailure = iota
	// FailCall counts the failure and makes the call return it, so the
	// caller (or an async Publisher's retry) knows a target missed the
	// message.
	FailCall
)

// String returns "CountAndContinue" or "FailCall".
func (p SecondaryFailure) String() string {
	switch p {
	case CountAndContinue:
		return "CountAndContinue"
	case FailCall:
		return "FailCall"
	}
	return fmt.Sprintf("SecondaryFailure(%d)", int(p))
}

// Option configures a tee Transport.
type Option func(*config)

type config struct {
	secondary  SecondaryFailure
	sequential bool
	keepOpen   bool
	onError    func(target string, err error)
	observers  []observe.Observer
}

// WithSecondaryFailure sets the policy for a failing secondary. An unknown
// value makes New fail.
func WithSecondaryFailure(p SecondaryFailure) Option {
	return func(c *config) { c.secondary = p }
}

// WithSequential publishes to the primary first and then to each secondary
// in turn, instead of to all at once. A message the primary refuses then
// reaches no secondary, at the price of adding the secondaries' latency to
// every call.
func WithSequential() Option {
	return func(c *config) { c.sequential = true }
}

// WithKeepOpen makes Close leave the targets open: the caller owns them.
func WithKeepOpen() Option {
	return func(c *config) { c.keepOpen = true }
}

// WithErrorHandler calls h with the target's name and the error when a
// secondary target fails, whatever the policy. It is called as every
// eventpub error handler is (an observe.ErrorReporter): on a goroutine of
// its own, at most once a second, the error then saying how many failures
// were held back in between. Close stops it.
func WithErrorHandler(h func(target string, err error)) Option {
	return func(c *config) { c.onError = h }
}

// WithObserver adds observers that hear each target's published and failed
// messages (see package observe), with the target's system name. Stats
// keeps counting either way.
func WithObserver(obs ...observe.Observer) Option {
	return func(c *config) { c.observers = append(c.observers, obs...) }
}
