package redis

import (
	"context"

	"github.com/eventpub/eventpub/transport"
)

// StartBatch implements transport.BatchStarter: on the publish
// connections of a pub/sub transport, msgs are queued behind every batch
// started before and written at once, and Wait collects the replies, so
// eventpub's async queue keeps several batches in flight. A batch that
// cannot stream (Streams mode, a client with hooks of its own, a batch
// holding a message refused on its own) is sent by PublishBatch before
// StartBatch returns, and Wait returns its result. Hooks added to the
// client while batches are in flight make the next batch go through a
// go-redis pipeline, on another connection: it may overtake them.
func (t *Transport) StartBatch(ctx context.Context, msgs []transport.Message) transport.PendingBatch {
	if t.cfg.Mode != ModePubSub || t.cp == nil || len(msgs) == 0 || t.mayBeHooked() {
		return sentBatch{t.PublishBatch(ctx, msgs)}
	}
	refused, err := t.checkBatch(ctx, msgs)
	if err != nil {
		return sentBatch{err}
	}
	if refused != nil {
		return sentBatch{t.publishAround(ctx, msgs, refused)}
	}
	return &startedBatch{t: t, msgs: msgs, b: t.cp.startBatch(msgs)}
}

// streamBatch is the batch size PreferredBatch asks for when batches
// stream on the publish connections: per batch, the async sender wakes,
// settles and starts the next one, and the reader wakes it once; batches
// of 1024 spend less of the client's CPU on that than the queue's default
// of 256 (about 10% per message) and keep 4 batches in the queue's window.
const streamBatch = 1024

// PreferredBatch implements sendq.BatchSizer: eventpub's async queue sends
// batches of up to 1024 messages when they stream on the publish
// connections (ModePubSub on a plain standalone client), and of its
// default size otherwise (0).
func (t *Transport) PreferredBatch() int {
	if t.cfg.Mode != ModePubSub || t.cp == nil {
		return 0
	}
	return streamBatch
}

// sentBatch is a batch already sent: Wait returns its result.
type sentBatch struct{ err error }

func (s sentBatch) Wait(context.Context) error { return s.err }

// startedBatch is a batch on the publish connections, its replies to come.
type startedBatch struct {
	t    *Transport
	msgs []transport.Message
	b    *pbatch
}

func (s *startedBatch) Wait(ctx context.Context) error {
	return s.t.batchError(ctx, s.msgs, s.b.wait(ctx), nil)
}
