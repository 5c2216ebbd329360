package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub/transport"
	goredis "github.com/redis/go-redis/v9"
)

// streamBlock is how long one XREAD / XREADGROUP waits for entries. A
// closed subscription's reader ends when its read returns, so this (plus
// ReadTimeout on a stalled link) bounds how long Transport.Close waits for
// it before closing an owned client; CloseContext bounds it by its context.
// A quarter second keeps Close prompt at the cost of four reads a second on
// an idle subscription.
const streamBlock = 250 * time.Millisecond

// maxStreamCount caps the entries one read asks for, per stream.
const maxStreamCount = 512

// SubscribeFrom is Subscribe in streams or dual mode with its own start:
// StartAll, StartNew or an entry ID (entries after it), overriding
// StreamsConfig.Start. With a Group it is where the group starts if the
// driver creates it. In pub/sub mode it fails: pub/sub keeps nothing.
func (t *Transport) SubscribeFrom(ctx context.Context, start string, channels ...string) (transport.Subscription, error) {
	if t.cfg.Mode == ModePubSub {
		return nil, fmt.Errorf("eventpub/redis: %w: SubscribeFrom needs streams or dual mode; pub/sub keeps nothing to replay", errors.ErrUnsupported)
	}
	if start != StartAll && start != StartNew && !streamID.MatchString(start) {
		return nil, fmt.Errorf("eventpub/redis: SubscribeFrom start %q; want %q (all), %q (new) or an entry ID", start, StartAll, StartNew)
	}
	return t.subscribeStreams(ctx, start, channels)
}

// streamMsg is an entry read for a subscription.
type streamMsg struct {
	msg     transport.Message
	key, id string
}

// streamSub reads streams for one Subscription: one reader goroutine per
// group of keys that one command may name (all of them, or one Cluster
// slot each).
type streamSub struct {
	t        *Transport
	group    string
	consumer string
	channel  map[string]string // key → channel
	out      chan streamMsg
	done     chan struct{}
	ctx      context.Context // ends on Close
	cancel   context.CancelFunc
	closed   atomic.Bool
	once     sync.Once

	nmu     sync.Mutex // Next: the message taken last, acknowledged on the next call
	prev    streamMsg
	hasPrev bool

	amu  sync.Mutex
	acks map[string][]string // key → entry IDs to XACK
	// fmu serializes flushes, so Close's flush sends what a reader's
	// flush, failing as Close cancels it, puts back.
	fmu sync.Mutex
}

// subscribeStreams opens a stream subscription; it returns once Redis has
// answered for every key, so delivery has begun.
func (t *Transport) subscribeStreams(ctx context.Context, start string, channels []string) (transport.Subscription, error) {
	if t.closed.Load() {
		return nil, transport.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(channels) == 0 {
		return nil, transport.Invalid(transport.ErrInvalidChannel, "eventpub/redis: Subscribe needs at least one channel")
	}
	sc := t.cfg.Streams
	s := &streamSub{t: t, group: sc.Group, consumer: sc.Consumer, channel: map[string]string{},
		out: make(chan streamMsg, t.cfg.SubscriptionBuffer), done: make(chan struct{}), acks: map[string][]string{}}
	var keys []string
	for _, ch := range channels {
		if err := transport.ValidateChannel(ch); err != nil {
			return nil, err
		}
		k := t.streamKey(ch)
		if _, ok := s.channel[k]; !ok {
			s.channel[k] = ch
			keys = append(keys, k)
		}
	}
	if err := t.downErr(); err != nil {
		return nil, err
	}
	ids, err := t.streamStart(ctx, s.group, start, keys)
	if err != nil {
		return nil, err
	}
	groups := [][]string{keys}
	if t.cluster {
		groups = bySlot(keys)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	t.smu.Lock()
	if t.closed.Load() {
		t.smu.Unlock()
		s.cancel()
		return nil, transport.ErrClosed
	}
	t.streams.subs[s] = struct{}{}
	for _, g := range groups {
		gids := make([]string, len(g))
		for i, k := range g {
			gids[i] = ids[k]
		}
		t.streams.readers.Add(1)
		go s.read(g, gids)
	}
	t.smu.Unlock()
	return s, nil
}

// streamStart makes the one round trip Subscribe waits for and returns
// each key's first ID to read after. With a group it creates the group
// where missing (an existing one keeps its place) and the IDs are "0":
// the consumer's own unacknowledged entries come first. Without, start
// "$" is resolved to the stream's last ID now, so that entries added
// after Subscribe returns are read.
func (t *Transport) streamStart(ctx context.Context, group, start string, keys []string) (map[string]string, error) {
	ids := make(map[string]string, len(keys))
	pipe := t.client.Pipeline()
	cmds := make([]goredis.Cmder, len(keys))
	for i, k := range keys {
		if group != "" {
			cmds[i] = pipe.XGroupCreateMkStream(ctx, k, group, start)
		} else {
			cmds[i] = pipe.XRevRangeN(ctx, k, "+", "-", 1)
		}
	}
	_, _ = pipe.Exec(ctx)
	for i, k := range keys {
		err := cmds[i].Err()
		if err != nil && !(group != "" && strings.HasPrefix(err.Error(), "BUSYGROUP")) {
			op := "XREVRANGE " + k
			if group != "" {
				op = "XGROUP CREATE " + k + " " + group
			}
			return nil, t.mapErrOp(ctx, err, op)
		}
		switch {
		case group != "":
			ids[k] = "0"
		case start == StartNew:
			ids[k] = "0-0"
			if r := cmds[i].(*goredis.XMessageSliceCmd).Val(); len(r) > 0 {
				ids[k] = r[0].ID
			}
		default:
			ids[k] = start
		}
	}
	return ids, nil
}

// read delivers the entries of keys after ids until the subscription
// closes. While Redis is unreachable it waits for the health check (with
// backoff) and then goes on from the last entry it read: nothing the
// stream still holds is skipped.
func (s *streamSub) read(keys, ids []string) {
	t := s.t
	defer t.streams.readers.Done()
	count := int64(min(t.cfg.SubscriptionBuffer, maxStreamCount))
	history := s.group != "" // reading our own pending entries first
	wait := t.cfg.MinBackoff
	streams := make([]string, 2*len(keys))
	index := make(map[string]int, len(keys))
	for i, k := range keys {
		index[k] = i
	}
	for !s.closed.Load() {
		if t.downErr() != nil {
			if !s.sleep(&wait) {
				return
			}
			continue
		}
		copy(streams, keys)
		var res []goredis.XStream
		var err error
		if s.group == "" {
			copy(streams[len(keys):], ids)
			res, err = t.client.XRead(s.ctx, &goredis.XReadArgs{Streams: streams, Count: count, Block: streamBlock}).Result()
		} else {
			s.flushAcks(s.ctx, keys)
			block := streamBlock
			for i := range keys {
				streams[len(keys)+i] = ">"
				if history {
					streams[len(keys)+i] = ids[i]
				}
			}
			if history {
				block = -1
			}
			res, err = t.client.XReadGroup(s.ctx, &goredis.XReadGroupArgs{Group: s.group, Consumer: s.consumer,
				Streams: streams, Count: count, Block: block}).Result()
		}
		if errors.Is(err, goredis.Nil) {
			history = false
			continue
		}
		if err != nil {
			if s.closed.Load() {
				return
			}
			if s.group != "" && strings.HasPrefix(err.Error(), "NOGROUP") {
				// The stream was deleted (or Redis restarted empty):
				// the group starts over with what comes next.
				_, err = t.streamStart(s.ctx, s.group, StartAll, keys)
			}
			if err != nil {
				_ = t.mapErrOp(s.ctx, err, "XREAD "+strings.Join(keys, " "))
				if !s.sleep(&wait) {
					return
				}
			}
			// Entries Redis handed us in a reply that was lost are
			// pending for this consumer: read them again.
			history = s.group != ""
			continue
		}
		wait = t.cfg.MinBackoff
		got := 0
		for _, st := range res {
			i, ok := index[st.Stream]
			if !ok {
				continue
			}
			for _, m := range st.Messages {
				got++
				ids[i] = m.ID
				if m.Values == nil { // a pending entry trimmed away since
					s.ack(streamMsg{key: st.Stream, id: m.ID})
					continue
				}
				sm := streamMsg{msg: toMessage(s.channel[st.Stream], m.Values), key: st.Stream, id: m.ID}
				select {
				case s.out <- sm:
				case <-s.done:
					return
				}
			}
		}
		if history && got == 0 {
			history = false
		}
	}
}

// sleep waits *wait (doubling it up to MaxBackoff) or until the
// subscription closes, and reports whether it is still open.
func (s *streamSub) sleep(wait *time.Duration) bool {
	timer := time.NewTimer(*wait)
	defer timer.Stop()
	*wait = min(*wait*2, s.t.cfg.MaxBackoff)
	select {
	case <-timer.C:
		return true
	case <-s.done:
		return false
	}
}

// toMessage turns a stream entry's fields into a Message; fields other
// than the payload and headers are ignored.
func toMessage(channel string, vals map[string]any) transport.Message {
	m := transport.Message{Channel: channel, Payload: []byte{}}
	for k, v := range vals {
		sv, _ := v.(string)
		switch {
		case k == FieldPayload:
			m.Payload = []byte(sv)
		case strings.HasPrefix(k, HeaderFieldPrefix):
			if m.Header == nil {
				m.Header = map[string]string{}
			}
			m.Header[k[len(HeaderFieldPrefix):]] = sv
		}
	}
	return m
}

// Next returns the next entry, ctx.Err() when ctx ends, or
// transport.ErrClosed once the subscription or its transport is closed.
// With a consumer group, calling Next again (or Close) acknowledges the
// entry it returned before.
func (s *streamSub) Next(ctx context.Context) (transport.Message, error) {
	if s.closed.Load() {
		return transport.Message{}, transport.ErrClosed
	}
	s.nmu.Lock()
	defer s.nmu.Unlock()
	if s.hasPrev {
		s.ack(s.prev)
		s.hasPrev = false
	}
	select {
	case m := <-s.out:
		if s.group != "" {
			s.prev, s.hasPrev = m, true
		}
		return m.msg, nil
	case <-ctx.Done():
		return transport.Message{}, ctx.Err()
	case <-s.done:
		return transport.Message{}, transport.ErrClosed
	}
}

// ack queues m's entry for XACK; the reader sends it before its next read.
func (s *streamSub) ack(m streamMsg) {
	if s.group == "" {
		return
	}
	s.amu.Lock()
	s.acks[m.key] = append(s.acks[m.key], m.id)
	s.amu.Unlock()
}

// flushAcks sends the queued XACKs of keys (all keys when nil) in one
// pipeline. What fails is queued again.
func (s *streamSub) flushAcks(ctx context.Context, keys []string) {
	s.fmu.Lock()
	defer s.fmu.Unlock()
	s.amu.Lock()
	todo := map[string][]string{}
	if keys == nil {
		todo, s.acks = s.acks, map[string][]string{}
	} else {
		for _, k := range keys {
			if ids := s.acks[k]; len(ids) > 0 {
				todo[k] = ids
				delete(s.acks, k)
			}
		}
	}
	s.amu.Unlock()
	if len(todo) == 0 {
		return
	}
	pipe := s.t.client.Pipeline()
	cmds := map[string]*goredis.IntCmd{}
	for k, ids := range todo {
		cmds[k] = pipe.XAck(ctx, k, s.group, ids...)
	}
	if _, err := pipe.Exec(ctx); err == nil {
		return
	}
	s.amu.Lock()
	for k, c := range cmds {
		if c.Err() != nil {
			s.acks[k] = append(todo[k], s.acks[k]...)
		}
	}
	s.amu.Unlock()
}

// Close stops delivery and, with a consumer group, acknowledges the entry
// Next returned last. It does not wait for a read in progress (at most
// about a second; Transport.Close does). It is idempotent.
func (s *streamSub) Close() error {
	s.shutdown(context.Background())
	s.t.smu.Lock()
	delete(s.t.streams.subs, s)
	s.t.smu.Unlock()
	return nil
}

// shutdown ends delivery and sends the pending acknowledgements, within
// ReadTimeout and ctx.
func (s *streamSub) shutdown(ctx context.Context) {
	s.once.Do(func() {
		s.closed.Store(true)
		close(s.done)
		s.cancel()
		if s.group == "" {
			return
		}
		s.nmu.Lock()
		if s.hasPrev {
			s.ack(s.prev)
			s.hasPrev = false
		}
		s.nmu.Unlock()
		if s.t.downErr() != nil {
			return // unacknowledged entries are delivered again on restart
		}
		if ctx.Err() != nil {
			return // unacknowledged entries are delivered again
		}
		ctx, cancel := context.WithTimeout(ctx, s.t.cfg.ReadTimeout)
		defer cancel()
		s.flushAcks(ctx, nil)
	})
}

// stopStreamReaders closes every stream subscription (Transport.Close);
// ctx bounds the acknowledgements they send.
func (t *Transport) stopStreamReaders(ctx context.Context) {
	t.smu.Lock()
	subs := make([]*streamSub, 0, len(t.streams.subs))
	for s := range t.streams.subs {
		subs = append(subs, s)
	}
	clear(t.streams.subs)
	t.smu.Unlock()
	for _, s := range subs {
		s.shutdown(ctx)
	}
}

// waitReaders waits until every stream reader has returned or ctx ends.
func (t *Transport) waitReaders(ctx context.Context) {
	if ctx.Done() == nil {
		t.streams.readers.Wait()
		return
	}
	done := make(chan struct{})
	go func() {
		t.streams.readers.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}
