package nats

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/eventpub/eventpub/transport"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// The acks of JetStream batches. A batch's messages go out as core
// publishes whose reply subjects lie under one wildcard inbox
// subscription of the Transport's own, "<inbox>.<batch>.<index>"; its
// handler matches each ack to its batch and message. Against nats.go's
// PublishMsgAsync this spares, per message, an options struct, a message
// copy, a future with its channels, an ack timer and a JSON decode: a
// batch has one deadline, and a plain ack is recognised without decoding.
// A single Publish (publishJS) is a batch of one.

// ackStallWait is how long a send past MaxPending waits for room before it
// fails with ErrUnavailable (nats.go's default stall wait).
const ackStallWait = 200 * time.Millisecond

// jsAcks tracks the batches whose acks are awaited.
type jsAcks struct {
	mu      sync.Mutex
	sub     *natsgo.Subscription // nil until the first batch
	prefix  string               // "<inbox>."
	batches map[uint64]*jsBatch
	next    uint64        // the last batch number given
	pending int           // acks awaited, over all batches
	room    chan struct{} // closed (and dropped) whenever an ack is settled
	idle    chan struct{} // closed when pending drops to 0
	stopped bool          // Close has begun: no batch starts
}

// ackOK marks a message whose ack came and was positive; ackAwaited one
// sent and counted whose ack has not come (only such a slot takes an ack).
var (
	ackOK      = errors.New("eventpub/nats: acked")
	ackAwaited = errors.New("eventpub/nats: ack awaited")
)

// startAcks registers b, subscribing to the inbox on the first call, and
// returns the reply subjects of its n messages, as one string: message
// i's is replies[i*w:(i+1)*w].
func (t *Transport) startAcks(b *jsBatch, n int) (replies string, w int, err error) {
	a := &t.acks
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return "", 0, transport.ErrClosed
	}
	if a.sub == nil {
		inbox := t.nc.NewInbox()
		sub, err := t.nc.Subscribe(inbox+".>", t.onAck)
		if err != nil {
			a.mu.Unlock()
			return "", 0, err
		}
		a.sub, a.prefix, a.batches = sub, inbox+".", map[uint64]*jsBatch{}
	}
	a.next++
	b.id = a.next
	b.left = 1 // the sending holds the batch open until it ends
	a.batches[b.id] = b
	prefix := a.prefix
	a.mu.Unlock()

	digits := len(strconv.Itoa(max(n-1, 0)))
	head := prefix + strconv.FormatUint(b.id, 10) + "."
	w = len(head) + digits
	buf := make([]byte, 0, n*w)
	var num [20]byte
	for i := range n {
		buf = append(buf, head...)
		idx := strconv.AppendInt(num[:0], int64(i), 10)
		for range digits - len(idx) {
			buf = append(buf, '0')
		}
		buf = append(buf, idx...)
	}
	return string(buf), w, nil
}

// reserve waits until one more ack may be awaited (MaxPending), at most
// ackStallWait, and counts it as message i's.
func (t *Transport) reserve(ctx context.Context, b *jsBatch, i int) error {
	a := &t.acks
	limit := t.cfg.JetStream.MaxPending
	a.mu.Lock()
	var timer *time.Timer
	for a.pending >= limit {
		if a.room == nil {
			a.room = make(chan struct{})
		}
		room := a.room
		a.mu.Unlock()
		if timer == nil {
			timer = time.NewTimer(ackStallWait)
			defer timer.Stop()
		}
		select {
		case <-room:
		case <-timer.C:
			return transport.Unavailable(jetstream.ErrTooManyStalledMsgs)
		case <-ctx.Done():
			return ctx.Err()
		case <-t.abandon:
			return transport.ErrClosed
		}
		a.mu.Lock()
	}
	a.pending++
	b.left++
	b.acks[i] = ackAwaited
	a.mu.Unlock()
	return nil
}

// unreserve gives back the count of message i, which reserve counted and
// which was not sent after all.
func (t *Transport) unreserve(b *jsBatch, i int) {
	a := &t.acks
	a.mu.Lock()
	b.acks[i] = nil
	b.left--
	a.settled(1)
	a.mu.Unlock()
}

// sent ends the sending of b: once its acks are in, done is closed.
func (t *Transport) sent(b *jsBatch) {
	a := &t.acks
	a.mu.Lock()
	b.left--
	if b.left == 0 {
		a.finish(b)
	}
	a.mu.Unlock()
}

// settled counts n acks no longer awaited. a.mu is held.
func (a *jsAcks) settled(n int) {
	a.pending -= n
	if a.room != nil {
		close(a.room)
		a.room = nil
	}
	if a.pending == 0 && a.idle != nil {
		close(a.idle)
		a.idle = nil
	}
}

// finish removes b, all of whose acks are in or given up on. a.mu is held.
func (a *jsAcks) finish(b *jsBatch) {
	delete(a.batches, b.id)
	close(b.done)
}

// abandonAcks gives up on b's acks still awaited: should they come, they
// are dropped. b's sending has ended.
func (t *Transport) abandonAcks(b *jsBatch) {
	a := &t.acks
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.batches[b.id]; !ok {
		return // all came meanwhile
	}
	a.settled(b.left) // the sending has ended: left counts the acks awaited
	b.left = 0
	a.finish(b)
}

// onAck matches an ack to its message.
func (t *Transport) onAck(m *natsgo.Msg) {
	a := &t.acks
	res := ackErr(m)
	a.mu.Lock()
	defer a.mu.Unlock()
	id, idx, ok := parseReply(m.Subject, len(a.prefix))
	if !ok {
		return
	}
	b := a.batches[id]
	if b == nil || idx >= len(b.acks) || b.acks[idx] != ackAwaited {
		return // given up on, already in, or not ours
	}
	b.acks[idx] = res
	b.left--
	a.settled(1)
	if b.left == 0 {
		a.finish(b)
	}
}

// maxBatchID and maxReplyIndex bound the numbers parseReply reads.
const (
	maxBatchID    = 1 << 62
	maxReplyIndex = 1 << 30
)

// parseReply reads "<batch>.<index>" after the prefix of n bytes (the
// prefix is the subscription's own: only its messages come here).
func parseReply(subj string, n int) (id uint64, idx int, ok bool) {
	if len(subj) <= n {
		return 0, 0, false
	}
	tail := subj[n:]
	dot := -1
	for i := 0; i < len(tail); i++ {
		c := tail[i]
		switch {
		case c == '.' && dot < 0:
			dot = i
		case c >= '0' && c <= '9':
			// Numbers past what the driver gives (a stray publish on the
			// inbox) are refused before they could wrap.
			if dot < 0 {
				if id > maxBatchID/10 {
					return 0, 0, false
				}
				id = id*10 + uint64(c-'0')
			} else {
				if idx > maxReplyIndex/10 {
					return 0, 0, false
				}
				idx = idx*10 + int(c-'0')
			}
		default:
			return 0, 0, false
		}
	}
	return id, idx, dot > 0 && dot < len(tail)-1
}

// plainAck is how the server's positive ack begins, the stream's name
// next.
var plainAck = []byte(`{"stream":"`)

// ackErr returns ackOK for a positive ack, else the error nats.go's
// jetstream package gives for such an ack.
func ackErr(m *natsgo.Msg) error {
	if len(m.Data) == 0 {
		if m.Header.Get("Status") == "503" {
			return jetstream.ErrNoStreamResponse
		}
		return jetstream.ErrInvalidJSAck
	}
	// A positive ack has no error member: it needs no decoding.
	if bytes.HasPrefix(m.Data, plainAck) && len(m.Data) > len(plainAck) && m.Data[len(plainAck)] != '"' &&
		!bytes.Contains(m.Data, []byte(`"error"`)) {
		return ackOK
	}
	var resp struct {
		Error  *jetstream.APIError `json:"error"`
		Stream string              `json:"stream"`
	}
	if err := json.Unmarshal(m.Data, &resp); err != nil {
		return jetstream.ErrInvalidJSAck
	}
	if resp.Error != nil {
		return resp.Error
	}
	if resp.Stream == "" {
		return jetstream.ErrInvalidJSAck
	}
	return ackOK
}

// awaitBatchAcks waits, after Close has begun, until every batch's acks
// (a single Publish's among them) are in, limit fires, down is closed or
// ctx ends. No batch starts after it.
func (t *Transport) awaitBatchAcks(ctx context.Context, limit <-chan time.Time, down <-chan struct{}) {
	a := &t.acks
	a.mu.Lock()
	a.stopped = true
	var idle chan struct{}
	if a.pending > 0 {
		if a.idle == nil {
			a.idle = make(chan struct{})
		}
		idle = a.idle
	}
	a.mu.Unlock()
	if idle == nil {
		return
	}
	select {
	case <-idle:
	case <-limit:
	case <-down:
	case <-ctx.Done():
	}
}

// stopAcks drops the inbox subscription (on the caller's connection,
// which stays open).
func (t *Transport) stopAcks() {
	a := &t.acks
	a.mu.Lock()
	sub := a.sub
	a.mu.Unlock()
	if sub != nil {
		_ = sub.Unsubscribe()
	}
}
