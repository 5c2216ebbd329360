package redis

import (
	"context"
	"time"

	"github.com/eventpub/eventpub/internal/backoff"
)

// The health state lets calls fail fast while Redis is unreachable: the
// first network error marks the broker down and starts one background
// check; until it sees Redis answer, calls return ErrUnavailable at once.

// downErr returns the fail-fast error while the broker is marked down.
func (t *Transport) downErr() error {
	if !t.down.Load() {
		return nil
	}
	t.hmu.Lock()
	cause := t.cause
	t.hmu.Unlock()
	return t.unavailable(cause)
}

// markDown records cause and starts the background check if none runs.
func (t *Transport) markDown(cause error) {
	t.hmu.Lock()
	defer t.hmu.Unlock()
	t.cause = cause
	t.down.Store(true)
	if t.probing || t.closed.Load() {
		return
	}
	t.probing = true
	t.wg.Add(1)
	go t.probe()
}

// markUp clears the down state.
func (t *Transport) markUp() {
	t.hmu.Lock()
	t.down.Store(false)
	t.cause = nil
	t.hmu.Unlock()
}

// probe pings Redis with capped exponential backoff, jittered so that many
// processes do not retry in lockstep, until it answers or the transport
// closes.
func (t *Transport) probe() {
	defer t.wg.Done()
	wait := backoff.New(t.cfg.MinBackoff, t.cfg.MaxBackoff)
	timer := time.NewTimer(wait.Next())
	defer timer.Stop()
	for {
		select {
		case <-t.done:
			t.hmu.Lock()
			t.probing = false
			t.hmu.Unlock()
			return
		case <-timer.C:
		}
		ctx, cancel := context.WithTimeout(t.ctx, t.cfg.DialTimeout+t.cfg.ReadTimeout)
		err := t.client.Ping(ctx).Err()
		cancel()
		if t.ctx.Err() != nil {
			continue // closing: the select above returns
		}
		if err == nil || classify(err) != kindNetwork {
			// Redis answered (even an error reply means it is up).
			t.hmu.Lock()
			t.down.Store(false)
			t.cause = nil
			t.probing = false
			t.hmu.Unlock()
			return
		}
		t.hmu.Lock()
		t.cause = t.scrub(err)
		t.hmu.Unlock()
		timer.Reset(wait.Next())
	}
}
