package redis

import (
	"context"
	"errors"
	"strconv"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// Publish sends msg.Payload as is with PUBLISH (SPUBLISH when sharded);
// msg.Header is ignored. In ModeStreams it appends msg to the channel's
// stream with XADD, headers included; in ModeDual it does both. Concurrent calls share pipelines. It returns once
// Redis has answered, so the payload is not kept. While Redis is marked
// down it returns transport.ErrUnavailable at once.
func (t *Transport) Publish(ctx context.Context, msg transport.Message) error {
	if t.cfg.Mode != ModePubSub {
		return t.publishStream(ctx, msg)
	}
	if err := t.check(ctx, &msg); err != nil {
		return err
	}
	if err := t.publishOne(ctx, &msg); err != nil {
		return t.mapErrOp(ctx, err, t.verb()+" "+strconv.Quote(msg.Channel))
	}
	return nil
}

// PublishBatch sends msgs in order in one pipeline (one round trip per
// node). On failure it returns a *transport.BatchError whose Sent counts
// the leading messages Redis acknowledged and whose Results give each
// message's own outcome.
func (t *Transport) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	if t.cfg.Mode != ModePubSub {
		return t.publishStreamBatch(ctx, msgs)
	}
	if len(msgs) == 0 {
		if t.closed.Load() {
			return transport.ErrClosed
		}
		return ctx.Err()
	}
	refused, err := t.checkBatch(ctx, msgs)
	if err != nil {
		return err
	}
	if refused != nil {
		return t.publishAround(ctx, msgs, refused)
	}
	if len(msgs) == 1 {
		if err := t.publishOne(ctx, &msgs[0]); err != nil {
			return &transport.BatchError{Sent: 0, Err: t.mapErrOp(ctx, err, t.verb()+" "+strconv.Quote(msgs[0].Channel))}
		}
		return nil
	}
	if t.cp != nil && !t.mayBeHooked() {
		return t.batchError(ctx, msgs, t.cp.doBatch(ctx, msgs), nil)
	}
	pipe := t.client.Pipeline()
	cmds := make([]*goredis.IntCmd, len(msgs))
	for i := range msgs {
		cmds[i] = t.publishCmd(ctx, &msgs[i])
		_ = pipe.Process(ctx, cmds[i])
	}
	if _, err = pipe.Exec(ctx); err == nil {
		return nil
	}
	results := make([]error, len(cmds))
	for i, c := range cmds {
		results[i] = c.Err()
	}
	return t.batchError(ctx, msgs, results, err)
}

// batchError returns nil when results (each message's unmapped outcome)
// are all nil, else a *transport.BatchError with the mapped results. Each
// command has its own reply: a refused one (NOPERM) does not mean the ones
// after it were not published. whole is the batch's own error, if any.
func (t *Transport) batchError(ctx context.Context, msgs []transport.Message, results []error, whole error) error {
	if results == nil {
		return nil
	}
	sent, first := len(results), error(nil)
	for i, err := range results {
		if err == nil {
			continue
		}
		results[i] = t.mapErrOp(ctx, err, t.verb()+" "+strconv.Quote(msgs[i].Channel))
		if first == nil {
			sent, first = i, results[i]
		}
	}
	if first == nil {
		if whole == nil {
			return nil
		}
		first = t.mapErrOp(ctx, whole, "")
	}
	return &transport.BatchError{Sent: sent, Results: results, Err: first}
}

// refuseAlone checks every message of a batch with check. A message
// refused on its own (its channel, its size) does not stop the others:
// refused holds its error at its index (nil when none is refused), and
// the caller sends the rest with publishAround. Any other failure (a
// closed transport, a done context, Redis marked down) concerns the whole
// batch and is returned as a *transport.BatchError with Sent 0.
func refuseAlone(ctx context.Context, msgs []transport.Message,
	check func(context.Context, *transport.Message) error) (refused []error, err error) {
	for i := range msgs {
		err := check(ctx, &msgs[i])
		if err == nil {
			continue
		}
		if !errors.Is(err, transport.ErrInvalidChannel) && !errors.Is(err, transport.ErrPayloadTooLarge) {
			return nil, &transport.BatchError{Sent: 0, Err: err}
		}
		if refused == nil {
			refused = make([]error, len(msgs))
		}
		refused[i] = err
	}
	return refused, nil
}

// checkBatch is refuseAlone(ctx, msgs, t.check) with what concerns the
// whole batch (a closed transport, a done context, Redis marked down)
// checked once, and a channel name checked once for a run of messages to
// it: a batch usually goes to one channel.
func (t *Transport) checkBatch(ctx context.Context, msgs []transport.Message) (refused []error, err error) {
	if t.closed.Load() {
		return nil, &transport.BatchError{Sent: 0, Err: transport.ErrClosed}
	}
	if err := ctx.Err(); err != nil {
		return nil, &transport.BatchError{Sent: 0, Err: err}
	}
	var prev string // the last channel found valid
	valid := false
	some := false // a message is not refused on its own
	for i := range msgs {
		m := &msgs[i]
		var err error
		if !valid || m.Channel != prev {
			if err = validChannel(m.Channel); err == nil {
				prev, valid = m.Channel, true
			}
		}
		if err == nil && len(m.Payload) > t.cfg.MaxPayload {
			err = t.payloadErr(len(m.Payload))
		}
		if err == nil {
			some = true
			continue
		}
		if refused == nil {
			refused = make([]error, len(msgs))
		}
		refused[i] = err
	}
	if some {
		if err := t.downErr(); err != nil {
			return nil, &transport.BatchError{Sent: 0, Err: err}
		}
	}
	return refused, nil
}

// publishAround sends the messages of msgs that refused does not refuse,
// and returns a *transport.BatchError whose Results give every message's
// fate. It sends them with PublishBatch, so in every mode.
func (t *Transport) publishAround(ctx context.Context, msgs []transport.Message, refused []error) error {
	var ok []transport.Message
	var idx []int
	for i := range msgs {
		if refused[i] == nil {
			ok = append(ok, msgs[i])
			idx = append(idx, i)
		}
	}
	results := refused
	if len(ok) > 0 {
		err := t.PublishBatch(ctx, ok)
		var be *transport.BatchError
		switch {
		case err == nil:
		case errors.As(err, &be) && len(be.Results) == len(ok):
			for j, r := range be.Results {
				results[idx[j]] = r
			}
		default:
			// Only Sent is sure: the rest failed with err.
			sent := 0
			if errors.As(err, &be) {
				sent = be.Sent
			}
			for j := sent; j < len(ok); j++ {
				results[idx[j]] = err
			}
		}
	}
	return transport.ResultsError(results)
}

// publishOne sends msg on the publish connections, or through go-redis
// pipelining when the client is not a plain standalone one.
func (t *Transport) publishOne(ctx context.Context, msg *transport.Message) error {
	if t.cp != nil {
		return t.publishStandalone(ctx, msg)
	}
	return t.pipe.do(ctx, t.publishCmd(ctx, msg))
}

// check validates msg and the transport state before anything is sent.
func (t *Transport) check(ctx context.Context, msg *transport.Message) error {
	if t.closed.Load() {
		return transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := validChannel(msg.Channel); err != nil {
		return err
	}
	if len(msg.Payload) > t.cfg.MaxPayload {
		return t.payloadErr(len(msg.Payload))
	}
	return t.downErr()
}

// payloadErr refuses a payload of n bytes, over MaxPayload.
func (t *Transport) payloadErr(n int) error {
	return transport.Invalid(transport.ErrPayloadTooLarge, "redis: payload is %d bytes, over MaxPayload %d", n, t.cfg.MaxPayload)
}

func (t *Transport) verb() string {
	if t.cfg.Sharded {
		return "SPUBLISH to"
	}
	return "PUBLISH to"
}

func (t *Transport) publishCmd(ctx context.Context, msg *transport.Message) *goredis.IntCmd {
	if t.cfg.Sharded {
		cmd := goredis.NewIntCmd(ctx, "spublish", msg.Channel, msg.Payload)
		cmd.SetFirstKeyPos(1)
		return cmd
	}
	return goredis.NewIntCmd(ctx, "publish", msg.Channel, msg.Payload)
}

// validChannel applies transport.ValidateChannel, the rules every driver
// shares; Redis itself would carry any byte string, so it adds none.
func validChannel(name string) error {
	if name == "" {
		return transport.Invalid(transport.ErrInvalidChannel, "redis: channel name is empty")
	}
	return transport.ValidateChannel(name)
}
