package redis

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// Streams mode: each channel is a Redis stream whose key is
// StreamsConfig.Prefix + the channel name. A message is one entry,
//
//	XADD <key> MAXLEN ~ <MaxLen> * payload <payload> h:<name> <value> …
//
// with the headers in name order. Publish calls are coalesced into
// go-redis pipelines like PUBLISH on a cluster (pipeline.go); in dual mode
// each message is XADD then PUBLISH (SPUBLISH when sharded) in the same
// pipeline, one round trip.

// streamState is what the Transport keeps for streams mode.
type streamState struct {
	maxLen any // XADD's MAXLEN count (a string, boxed once); nil for no cap
	// subs and readers are guarded by the Transport's smu: a reader is
	// added only while the Transport is open.
	subs    map[*streamSub]struct{}
	readers sync.WaitGroup
}

func (t *Transport) initStreams() {
	if t.cfg.Mode == ModePubSub {
		return
	}
	if n := t.cfg.Streams.MaxLen; n > 0 {
		t.streams.maxLen = any(strconv.FormatInt(n, 10))
	}
	t.streams.subs = map[*streamSub]struct{}{}
}

// streamKey returns the stream key of channel.
func (t *Transport) streamKey(channel string) string {
	if t.cfg.Streams.Prefix == "" {
		return channel
	}
	return t.cfg.Streams.Prefix + channel
}

// checkStream is check plus the channel rules every driver applies.
func (t *Transport) checkStream(ctx context.Context, msg *transport.Message) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if err := transport.ValidateChannel(msg.Channel); err != nil {
		return err
	}
	return t.check(ctx, msg)
}

// xaddCmd builds the XADD of msg. The payload is referenced, not copied:
// the command must be done with before Publish returns.
func (t *Transport) xaddCmd(ctx context.Context, msg *transport.Message) *goredis.StringCmd {
	n := 6 + 2*len(msg.Header)
	if t.streams.maxLen != nil {
		n += 3
	}
	args := make([]any, 0, n)
	args = append(args, "xadd", t.streamKey(msg.Channel))
	if t.streams.maxLen != nil {
		args = append(args, "maxlen", "~", t.streams.maxLen)
	}
	args = append(args, "*", FieldPayload, msg.Payload)
	switch len(msg.Header) {
	case 0:
	case 1:
		for k, v := range msg.Header {
			args = append(args, HeaderFieldPrefix+k, v)
		}
	default:
		keys := make([]string, 0, len(msg.Header))
		for k := range msg.Header {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			args = append(args, HeaderFieldPrefix+k, msg.Header[k])
		}
	}
	cmd := goredis.NewStringCmd(ctx, args...)
	cmd.SetFirstKeyPos(1)
	return cmd
}

// alsoPublish returns the PUBLISH that goes with msg's XADD in dual mode,
// or nil.
func (t *Transport) alsoPublish(ctx context.Context, msg *transport.Message) goredis.Cmder {
	if t.cfg.Mode != ModeDual {
		return nil
	}
	return t.publishCmd(ctx, msg)
}

func (t *Transport) xaddOp(channel string) string {
	op := "XADD to " + strconv.Quote(t.streamKey(channel))
	if t.cfg.Mode == ModeDual {
		op = t.verb() + " " + strconv.Quote(channel) + " and " + op
	}
	return op
}

// publishStream is Publish in streams and dual mode.
func (t *Transport) publishStream(ctx context.Context, msg transport.Message) error {
	if err := t.checkStream(ctx, &msg); err != nil {
		return err
	}
	if err := t.pipe.doWith(ctx, t.xaddCmd(ctx, &msg), t.alsoPublish(ctx, &msg)); err != nil {
		return t.mapErrOp(ctx, err, t.xaddOp(msg.Channel))
	}
	return nil
}

// publishStreamBatch is PublishBatch in streams and dual mode: one
// pipeline, one reply per command, so each message gets its own result.
func (t *Transport) publishStreamBatch(ctx context.Context, msgs []transport.Message) error {
	if len(msgs) == 0 {
		if t.closed.Load() {
			return transport.ErrClosed
		}
		return ctx.Err()
	}
	// As in pub/sub mode, a message refused on its own does not stop the
	// others: they go, and Results tell each message's fate.
	refused, err := refuseAlone(ctx, msgs, t.checkStream)
	if err != nil {
		return err
	}
	if refused != nil {
		return t.publishAround(ctx, msgs, refused)
	}
	if len(msgs) == 1 {
		if err := t.publishStream(ctx, msgs[0]); err != nil {
			return &transport.BatchError{Sent: 0, Err: err}
		}
		return nil
	}
	pipe := t.client.Pipeline()
	type pair struct{ xadd, also goredis.Cmder }
	cmds := make([]pair, len(msgs))
	for i := range msgs {
		cmds[i].xadd = t.xaddCmd(ctx, &msgs[i])
		_ = pipe.Process(ctx, cmds[i].xadd)
		if cmds[i].also = t.alsoPublish(ctx, &msgs[i]); cmds[i].also != nil {
			_ = pipe.Process(ctx, cmds[i].also)
		}
	}
	if _, err = pipe.Exec(ctx); err == nil {
		return nil
	}
	results := make([]error, len(cmds))
	sent, first := len(cmds), error(nil)
	for i, c := range cmds {
		e := pairErr(c.xadd, c.also)
		if e == nil {
			continue
		}
		results[i] = t.mapErrOp(ctx, e, t.xaddOp(msgs[i].Channel))
		if first == nil {
			sent, first = i, results[i]
		}
	}
	if first == nil {
		first = t.mapErrOp(ctx, err, "")
	}
	return &transport.BatchError{Sent: sent, Results: results, Err: first}
}

// errPatternStreams refuses SubscribePattern in streams mode.
var errPatternStreams = fmt.Errorf("eventpub/redis: %w: pattern subscriptions in streams mode "+
	"(a stream is read by its key; Redis has no pattern read of streams); subscribe to the channels by name, "+
	"or use dual mode, where SubscribePattern reads pub/sub", errors.ErrUnsupported)
