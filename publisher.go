// Package eventpub publishes a service's logs, events and stats to a message
// broker through one API, with the broker chosen by a driver.
//
// # Channels and envelopes
//
// The defaults are CodeWorm's exactly, so a CodeWorm dashboard listening on
// Redis keeps working when a Go service replaces the Python publisher:
//
//	PublishLog(ctx, fields)        codeworm:logs    the fields as given
//	PublishEvent(ctx, typ, data)   codeworm:events  {"type":…,"timestamp":…,"data":…}
//	PublishStats(ctx, stats)       codeworm:stats   {"timestamp":…, …stats}
//
// JSON is written byte for byte as orjson writes it: compact, UTF-8 raw,
// keys sorted, floats in shortest form. See internal/jsonenc for how each Go
// type is written; values JSON cannot hold become strings, never errors.
// Timestamps are Python's datetime.now().isoformat(): local wall time without
// an offset ([WithUTC] changes that).
//
// # Drivers
//
// A Publisher sends through a [transport.Transport]. Build one with a
// driver's constructor and pass it to [New], or import the driver and call
// [Open] with a URL: redis://, rediss://, unix:// (package redis), nats://,
// tls:// (package nats), memory:// (package memory).
//
// # Delivery
//
// By default a publish returns once the driver has the message, or with the
// driver's error. [WithAsync] queues instead and sends from one goroutine in
// batches, holding messages through broker outages, at least once: a batch
// counts as published once the broker has confirmed it, and is sent again
// when that confirmation does not come. A message the broker refuses for
// good (an invalid channel, a payload too large, a permission) is failed,
// counted and reported, and the ones behind it go on; so is one that keeps
// failing while the broker answers pings (after a few tries). Only a real
// outage holds every message. Either way a publish
// never panics, the caller may ignore every error, and [Publisher.Metrics]
// counts what happened to every message. The queue is package sendq, which
// works on any transport by itself.
//
// # Observing
//
// [WithObserver] adds observers (package observe) that hear every
// message's fate with its channel and the messaging system's name, the
// queue's depth and the link's state; metrics and tracing plug in there.
// Metrics is the snapshot of an observe.Counters the Publisher always keeps.
// An observer adds no allocation per message. An observer that is also an
// observe.Tracer (package eventpubotel's is) is called with the caller's
// context for every message accepted, to trace the publish and, on a
// transport with headers, put the trace context in a copy of the
// message's header; without one the Publisher makes no such call.
package eventpub

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"maps"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eventpub/eventpub/internal/bufpool"
	"github.com/eventpub/eventpub/internal/jsonenc"
	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/sendq"
	"github.com/eventpub/eventpub/transport"
)

// Errors returned by a Publisher, besides the driver's (see package transport).
var (
	// ErrClosed is returned by every publish after Close.
	ErrClosed = transport.ErrClosed
	// ErrQueueFull is returned in async mode when the queue has no room and
	// the policy drops the new message (DropNewest, or DropOldest while every
	// queued message is being sent); the message is counted as dropped.
	ErrQueueFull = sendq.ErrQueueFull
	// ErrInvalidChannel is returned for an empty channel name, and by
	// drivers for names they cannot carry.
	ErrInvalidChannel = transport.ErrInvalidChannel
	// ErrUnavailable: the broker cannot be reached now (see
	// transport.ErrUnavailable).
	ErrUnavailable = transport.ErrUnavailable
	// ErrAuth: the broker refused the credentials or the operation.
	ErrAuth = transport.ErrAuth
	// ErrPayloadTooLarge: the payload is over the driver's limit.
	ErrPayloadTooLarge = transport.ErrPayloadTooLarge
	// ErrUnknownOutcome: a sync publish sent the message but no
	// confirmation came; it may have been delivered. It matches
	// ErrUnavailable too (see transport.ErrUnknownOutcome).
	ErrUnknownOutcome = transport.ErrUnknownOutcome
)

// Publisher publishes logs, events and stats. It is safe for concurrent use.
type Publisher struct {
	t      transport.Transport
	cfg    config
	err    error // set when New was given bad input; returned by every call
	logs   string
	events string
	stats  string

	closed    atomic.Bool
	closeMu   sync.Mutex
	closeDone chan struct{} // made by the first Close, closed when it is done
	closeErr  error

	q *sendq.Queue // nil unless async

	idPrefix string        // WithMessageIDs: random per Publisher
	idSeq    atomic.Uint64 // WithMessageIDs: the next id's number

	// Sync mode: counts and obs (WithObserver's, nil when none) hear every
	// message; in async mode the queue counts and reports.
	counts observe.Counters
	obs    observe.Observer
	timed  bool   // obs wants latencies
	system string // transport.SystemName of t

	tracer  observe.Tracer // the first observer that traces, or nil
	headers bool           // t carries headers: a tracer may add its context
}

// New returns a Publisher that sends through t and owns it: Close closes t
// (unless WithKeepOpen).
// It never fails because the broker is down. Bad input (a nil transport, an
// invalid option) does not panic: every publish then returns an error that
// names it.
func New(t transport.Transport, opts ...Option) *Publisher {
	p := &Publisher{t: t, cfg: defaultConfig()}
	for _, o := range opts {
		if o != nil {
			o(&p.cfg)
		}
	}
	switch {
	case t == nil:
		p.err = errors.New("eventpub: New was given a nil transport")
	default:
		p.err = p.cfg.validate()
	}
	prefix := ""
	if p.cfg.namespace != "" {
		prefix = p.cfg.namespace + ":"
	}
	p.logs, p.events, p.stats = prefix+"logs", prefix+"events", prefix+"stats"
	if p.cfg.messageIDs {
		var r [8]byte
		_, _ = rand.Read(r[:])
		p.idPrefix = hex.EncodeToString(r[:]) + "-"
	}
	if p.err == nil {
		p.system = transport.SystemName(t)
		p.obs = observe.Multi(p.cfg.observers...)
		p.timed = p.obs != nil && observe.Timed(p.obs)
		p.tracer = observe.TracerOf(p.obs)
		p.headers = p.tracer != nil && t.Capabilities().Headers
	}
	if p.err == nil && p.cfg.async {
		p.q, p.err = sendq.New(t, sendq.Config{
			Capacity:     p.cfg.capacity,
			Policy:       p.cfg.policy,
			MaxBatch:     p.cfg.maxBatch,
			Observer:     p.obs,
			ErrorHandler: p.cfg.errorHandler,
			ErrorEvery:   p.cfg.errorEvery,
		})
	}
	return p
}

// withID returns header with a fresh message id added (WithMessageIDs).
func (p *Publisher) withID(header map[string]string) map[string]string {
	h := make(map[string]string, len(header)+1)
	maps.Copy(h, header)
	h[transport.HeaderMessageID] = p.idPrefix + strconv.FormatUint(p.idSeq.Add(1), 10)
	return h
}

// Open returns a Publisher on the transport that rawURL names. The driver
// for the URL's scheme must be imported. Errors never contain the URL's
// password.
func Open(ctx context.Context, rawURL string, opts ...Option) (*Publisher, error) {
	t, err := transport.Open(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	p := New(t, opts...)
	if p.err != nil {
		_ = t.Close()
		return nil, p.err
	}
	return p, nil
}

// Channels returns the names of the logs, events and stats channels.
func (p *Publisher) Channels() (logs, events, stats string) { return p.logs, p.events, p.stats }

// Transport returns the transport the Publisher sends through.
func (p *Publisher) Transport() transport.Transport { return p.t }

// PublishLog publishes fields as given to the logs channel.
func (p *Publisher) PublishLog(ctx context.Context, fields map[string]any) error {
	b := bufpool.Get()
	*b = append(*b, '{')
	*b = jsonenc.AppendFields(*b, fields, "", false)
	*b = append(*b, '}')
	return p.send(ctx, p.logs, b, nil)
}

// PublishEvent publishes {"type":…,"timestamp":…,"data":…} to the events
// channel. A nil data is written as {}.
func (p *Publisher) PublishEvent(ctx context.Context, eventType string, data map[string]any) error {
	b := bufpool.Get()
	*b = append(*b, `{"type":`...)
	*b = jsonenc.AppendString(*b, eventType)
	*b = append(*b, `,"timestamp":"`...)
	*b = appendTimestamp(*b, p.cfg.clock(), p.cfg.utc)
	*b = append(*b, `","data":{`...)
	*b = jsonenc.AppendFields(*b, data, "", false)
	*b = append(*b, "}}"...)
	return p.send(ctx, p.events, b, nil)
}

// PublishStats publishes {"timestamp":…, …stats} to the stats channel. A
// "timestamp" key in stats replaces the publisher's but stays first.
func (p *Publisher) PublishStats(ctx context.Context, stats map[string]any) error {
	b := bufpool.Get()
	*b = append(*b, `{"timestamp":`...)
	if ts, ok := stats["timestamp"]; ok {
		*b = jsonenc.Append(*b, ts)
	} else {
		*b = append(*b, '"')
		*b = appendTimestamp(*b, p.cfg.clock(), p.cfg.utc)
		*b = append(*b, '"')
	}
	*b = jsonenc.AppendFields(*b, stats, "timestamp", true)
	*b = append(*b, '}')
	return p.send(ctx, p.stats, b, nil)
}

// Publish sends payload as it is to channel. The Publisher does not keep
// payload after Publish returns.
func (p *Publisher) Publish(ctx context.Context, channel string, payload []byte) error {
	if channel == "" {
		return transport.Invalid(transport.ErrInvalidChannel, "channel name is empty")
	}
	if p.direct() {
		return p.push(ctx, transport.Message{Channel: channel, Payload: payload})
	}
	b := bufpool.Get()
	*b = append(*b, payload...)
	return p.send(ctx, channel, b, nil)
}

// PublishMessage sends msg as it is: channel, payload and header (the
// header reaches subscribers only when the transport's Capabilities say
// Headers). The Publisher keeps neither the payload nor the header map
// after PublishMessage returns. It is how a relay republishes what it
// received.
func (p *Publisher) PublishMessage(ctx context.Context, msg transport.Message) error {
	if msg.Channel == "" {
		return transport.Invalid(transport.ErrInvalidChannel, "channel name is empty")
	}
	if p.direct() {
		return p.push(ctx, msg)
	}
	b := bufpool.Get()
	*b = append(*b, msg.Payload...)
	header := msg.Header
	if p.q != nil && len(header) > 0 && !p.cfg.messageIDs {
		header = maps.Clone(header) // the queue keeps it; withID copies anyway
	}
	return p.send(ctx, msg.Channel, b, header)
}

// direct reports whether a message given as bytes goes to the queue as
// it is (async, no message id to add, no tracer to call): push then
// copies its payload into the queue once, not into an encode buffer
// first.
func (p *Publisher) direct() bool {
	return p.q != nil && !p.cfg.messageIDs && p.tracer == nil
}

// push queues a copy of msg (see direct).
func (p *Publisher) push(ctx context.Context, msg transport.Message) error {
	if err := p.check(ctx); err != nil {
		return err
	}
	return p.q.Push(ctx, msg) // copies the payload and the header
}

// send hands the encoded message in b to the queue or the transport and
// owns b from then on.
func (p *Publisher) send(ctx context.Context, channel string, b *[]byte, header map[string]string) error {
	if err := p.check(ctx); err != nil {
		bufpool.Put(b)
		return err
	}
	if p.cfg.messageIDs {
		header = p.withID(header)
	}
	if p.tracer != nil {
		return p.traced(ctx, channel, b, header)
	}
	if p.q != nil {
		return p.q.PushOwned(ctx, channel, b, header) // counts what it accepts
	}
	return p.publish(ctx, channel, b, header)
}

// traced is send with the Tracer told: a span around the queueing (async)
// or the transport's publish (sync), its context in the header when the
// transport carries headers.
func (p *Publisher) traced(ctx context.Context, channel string, b *[]byte, header map[string]string) error {
	ctx, header = p.tracer.StartPublish(ctx, observe.Publish{
		Channel: channel, System: p.system, Async: p.q != nil, Header: header, Inject: p.headers,
	})
	var err error
	if p.q != nil {
		err = p.q.PushOwned(ctx, channel, b, header)
	} else {
		err = p.publish(ctx, channel, b, header)
	}
	p.tracer.EndPublish(ctx, err)
	return err
}

// publish sends the message in b through the transport (sync mode),
// counting and reporting it, and recycles b.
func (p *Publisher) publish(ctx context.Context, channel string, b *[]byte, header map[string]string) error {
	o := observe.Outcome{Channel: channel, System: p.system, Count: 1}
	p.counts.Accepted(o)
	if p.obs != nil {
		p.obs.Accepted(o)
	}
	var start time.Time
	if p.timed {
		start = time.Now()
	}
	err := p.t.Publish(ctx, transport.Message{Channel: channel, Payload: *b, Header: header})
	bufpool.Put(b)
	if err != nil {
		o.Err = err
		p.counts.Failed(o)
		if p.obs != nil {
			p.obs.Failed(o)
		}
		return err
	}
	p.counts.Published(o)
	if p.obs != nil {
		if p.timed {
			o.Latency = time.Since(start)
		}
		p.obs.Published(o)
	}
	return nil
}

// check returns why a publish cannot be accepted now, or nil.
func (p *Publisher) check(ctx context.Context) error {
	if p.err != nil {
		return p.err
	}
	if p.closed.Load() {
		return ErrClosed
	}
	if ctx == nil {
		return errors.New("eventpub: nil context")
	}
	return ctx.Err()
}

// Close stops accepting messages, sends what is queued until ctx ends, and
// closes the transport (through transport.ContextCloser when the driver
// has it, so that its own waits end with ctx as well). When messages remain undelivered it returns a
// *CloseError saying how many. Close is idempotent and safe to call while
// other goroutines publish: they get ErrClosed. A Close that finds another
// in progress waits for it and returns its result; its own ctx ending
// stops the sending early.
func (p *Publisher) Close(ctx context.Context) error {
	if ctx == nil {
		ctx = context.Background()
	}
	p.closeMu.Lock()
	first := p.closeDone == nil
	if first {
		p.closeDone = make(chan struct{})
	}
	done := p.closeDone
	p.closeMu.Unlock()
	if !first {
		// Another Close is draining. This caller's deadline also bounds the
		// drain: when it ends first, sending stops and the rest is counted.
		select {
		case <-done:
		case <-ctx.Done():
			if p.q != nil {
				p.q.Stop()
			}
			<-done
		}
		return p.closeErr
	}
	defer close(done)
	p.closed.Store(true)
	if p.err != nil && p.t == nil {
		return nil
	}
	var lost int
	if p.q != nil {
		lost = p.q.Close(ctx)
	}
	var err error
	if p.t != nil && !p.cfg.keepOpen {
		if cc, ok := p.t.(transport.ContextCloser); ok {
			err = cc.CloseContext(ctx) // its waits end with ctx too
		} else {
			err = p.t.Close()
		}
	}
	if lost > 0 {
		err = &CloseError{Undelivered: lost, Err: ctx.Err()}
	}
	p.closeErr = err
	return err
}

// CloseError reports messages that Close could not deliver before its
// context ended. They are counted as failed in Metrics.
type CloseError struct {
	// Undelivered counts the messages still queued when Close gave up.
	Undelivered int
	// Err is why Close gave up (the context's error).
	Err error
}

func (e *CloseError) Error() string {
	return "eventpub: close: " + strconv.Itoa(e.Undelivered) + " messages not delivered: " + errString(e.Err)
}

// Unwrap returns the context's error.
func (e *CloseError) Unwrap() error { return e.Err }

func errString(err error) string {
	if err == nil {
		return "gave up"
	}
	return err.Error()
}

// Metrics counts messages: it is observe.Snapshot. The counters always
// add up: Accepted = Published + Dropped + Failed + Queued.
//
// Published counts messages the broker confirmed: in async mode, on every
// driver, a message counts once the broker has acknowledged it (a Redis
// reply, a JetStream ack, or for core NATS a flush round trip after its
// batch, see transport.Flusher); a batch whose confirmation does not come
// is sent again, so delivery is at least once. In sync mode it counts
// publishes that returned nil: that is a confirmation on every driver but
// core NATS without its Flush option, where it means nats.go buffered the
// message. Failed counts, in async mode, messages the transport refused
// for good and those Close could not deliver; in sync mode, every publish
// the transport returned an error for (ErrUnavailable and context errors
// included), since the caller got that error.
type Metrics = observe.Snapshot

// Metrics returns a snapshot of the counters.
func (p *Publisher) Metrics() Metrics {
	if p.q != nil {
		return p.q.Counters()
	}
	return p.counts.Snapshot()
}
