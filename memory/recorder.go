package memory

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/eventpub/eventpub/transport"
)

// Recorder keeps every message published on a broker so that a unit test
// can assert on what its code sent. It taps the broker rather than
// subscribing, so it misses nothing, drops nothing and never slows a
// publisher. It is safe for concurrent use.
type Recorder struct {
	b *Broker

	mu     sync.Mutex
	msgs   []transport.Message // shared with the broker's history; never handed out
	wake   chan struct{}       // closed on the next record; made by a waiter
	closed bool
}

// NewRecorder starts recording every message published on t's broker, by
// any of its transports, from now on. Call Close to stop.
func NewRecorder(t *Transport) *Recorder {
	r := &Recorder{b: t.b}
	t.b.addTap(r)
	return r
}

// record is called by the broker, in publish order.
func (r *Recorder) record(m transport.Message) {
	r.mu.Lock()
	if !r.closed {
		r.msgs = append(r.msgs, m)
		if r.wake != nil {
			close(r.wake)
			r.wake = nil
		}
	}
	r.mu.Unlock()
}

// matching returns copies of the recorded messages on channel ("" = all).
func (r *Recorder) matching(channel string) []transport.Message {
	var out []transport.Message
	for _, m := range r.msgs {
		if channel == "" || m.Channel == channel {
			out = append(out, cloneMsg(m))
		}
	}
	return out
}

func (r *Recorder) count(channel string) int {
	if channel == "" {
		return len(r.msgs)
	}
	n := 0
	for _, m := range r.msgs {
		if m.Channel == channel {
			n++
		}
	}
	return n
}

// Messages returns the messages recorded on channel ("" = every channel), in
// publish order. The caller owns the result.
func (r *Recorder) Messages(channel string) []transport.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.matching(channel)
}

// Envelopes returns the payloads of Messages(channel), each decoded as one
// JSON object with numbers kept as json.Number. The error names the index
// (within that list) of the first message that is not a JSON object.
func (r *Recorder) Envelopes(channel string) ([]map[string]any, error) {
	msgs := r.Messages(channel)
	out := make([]map[string]any, 0, len(msgs))
	for i, m := range msgs {
		dec := json.NewDecoder(bytes.NewReader(m.Payload))
		dec.UseNumber()
		var v map[string]any
		err := dec.Decode(&v)
		if err == nil && v == nil {
			err = fmt.Errorf("it is null")
		}
		if err == nil {
			if _, extra := dec.Token(); extra != io.EOF {
				err = fmt.Errorf("data follows the object")
			}
		}
		if err != nil {
			return out, fmt.Errorf("memory: Recorder.Envelopes: message %d (channel %q, %d bytes) is not a JSON object: %v",
				i, m.Channel, len(m.Payload), err)
		}
		out = append(out, v)
	}
	return out, nil
}

// Wait returns the messages on channel ("" = any channel) once at least n
// have been recorded, waiting up to timeout. On timeout the error says how
// many arrived, and the messages that did are returned with it.
func (r *Recorder) Wait(channel string, n int, timeout time.Duration) ([]transport.Message, error) {
	var timer *time.Timer
	for {
		r.mu.Lock()
		got := r.count(channel)
		if got >= n {
			defer r.mu.Unlock()
			return r.matching(channel), nil
		}
		if r.closed {
			defer r.mu.Unlock()
			return r.matching(channel), fmt.Errorf("memory: Recorder.Wait: the recorder was closed with %d of %d messages on %s",
				got, n, describe(channel))
		}
		if r.wake == nil {
			r.wake = make(chan struct{})
		}
		wake := r.wake
		r.mu.Unlock()

		if timer == nil {
			timer = time.NewTimer(timeout)
			defer timer.Stop()
		}
		select {
		case <-wake:
		case <-timer.C:
			r.mu.Lock()
			defer r.mu.Unlock()
			if got = r.count(channel); got >= n {
				return r.matching(channel), nil
			}
			return r.matching(channel), fmt.Errorf("memory: Recorder.Wait: %d of %d messages arrived on %s within %v",
				got, n, describe(channel), timeout)
		}
	}
}

func describe(channel string) string {
	if channel == "" {
		return "any channel"
	}
	return fmt.Sprintf("channel %q", channel)
}

// Reset forgets what was recorded so far; recording goes on.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.msgs = nil
	r.mu.Unlock()
}

// Close stops recording and wakes any Wait. What was recorded stays
// readable. It is idempotent.
func (r *Recorder) Close() {
	r.b.removeTap(r)
	r.mu.Lock()
	r.closed = true
	if r.wake != nil {
		close(r.wake)
		r.wake = nil
	}
	r.mu.Unlock()
}
