// Package backoff computes the waits between retries: capped exponential
// backoff with jitter, so that many processes that lost the same broker do
// not all retry in lockstep when it comes back.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Jitter says how much of each wait is random.
type Jitter int

const (
	// Equal waits half the exponential step plus a random part of the other
	// half: never less than half the step, so retries keep their spacing.
	Equal Jitter = iota
	// Full waits a random time between zero and the exponential step
	// ("full jitter"): the widest spread, at the price of an occasional
	// retry at once.
	Full
)

// Backoff hands out the waits of one retry loop. The step starts at Min,
// doubles with every Next and stays at Max; Reset starts over after a
// success. It is not safe for concurrent use: each loop keeps its own.
// The zero value waits nothing.
type Backoff struct {
	// Min is the first step (before jitter).
	Min time.Duration
	// Max caps the step (before jitter).
	Max time.Duration
	// Jitter is Equal (the default) or Full.
	Jitter Jitter

	step time.Duration // the last step handed out; 0 after Reset
}

// New returns a Backoff from min to max with equal jitter.
func New(min, max time.Duration) Backoff { return Backoff{Min: min, Max: max} }

// Next returns the wait before the next retry: the step, doubled from the
// last one and capped at Max, with jitter applied. It never returns more
// than Max, nor a negative duration.
func (b *Backoff) Next() time.Duration {
	b.step = min(max(2*b.step, b.Min), b.Max)
	if b.step <= 0 {
		return 0
	}
	switch b.Jitter {
	case Full:
		return rand.N(b.step + 1)
	default:
		half := b.step / 2
		return half + rand.N(b.step-half+1)
	}
}

// Step returns the step Next last used, before jitter: 0 after Reset.
func (b *Backoff) Step() time.Duration { return b.step }

// Reset makes the next wait start again from Min.
func (b *Backoff) Reset() { b.step = 0 }
