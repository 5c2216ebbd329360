// Package transport is the contract between eventpub and a message broker.
//
// A driver implements [Transport] (and, when it can send many messages in one
// round trip, [BatchPublisher]) and registers its URL schemes with [Register]
// in an init function, the way database/sql drivers do. The root package
// eventpub and every tool built on it speak only this contract, so a driver
// written outside this module works everywhere a built-in one does. The
// package conformance checks that a driver keeps every rule written here.
//
// # Rules every driver keeps
//
//   - Errors are classified with the sentinels below and [errors.Is]; a done
//     context gives ctx.Err(). No error contains a password or token from a
//     URL. ErrAuth is not ErrUnavailable: a refused credential is not an
//     outage to wait out.
//   - Publish does not keep msg.Payload after it returns: callers reuse buffers.
//   - Publish never blocks past its context; while the broker is down it fails
//     fast with [ErrUnavailable] instead of waiting a full timeout on every call.
//     A driver whose client cannot honour a context somewhere (core NATS: a
//     socket write on a stalled link) bounds that wait and documents it.
//   - Close is idempotent, ends every open Subscription and leaks no goroutine.
//     A driver built on a client the caller passed in does not close that client.
//     A Close that waits for anything implements [ContextCloser] and bounds
//     that wait by its context.
//   - Channel names are checked with [ValidateChannel] before anything
//     reaches the broker (Publish, PublishBatch, Subscribe, patterns), then
//     against the driver's own rules: a name breaking either gives
//     [ErrInvalidChannel]. In a PublishBatch a message refused on its own
//     does not stop the ones after it: they are sent and
//     BatchError.Results tell each message's fate, or BatchError.Sent
//     stops exactly at the refused message.
//   - Errors that are not an outage (ErrInvalidChannel, ErrPayloadTooLarge,
//     ErrAuth, a refusal of the request itself) are permanent. Only
//     ErrUnavailable is retried; [ErrUnknownOutcome], a kind of it, says the
//     message may have been sent all the same.
//   - A transport whose Publish returns before the broker confirms the
//     message implements [Flusher].
package transport

import (
	"context"
	"errors"
	"fmt"
)

// Message is one message on one channel.
type Message struct {
	// Channel names where the message goes (a Redis channel, a NATS subject).
	Channel string
	// Payload is opaque bytes; it may be empty and need not be UTF-8.
	Payload []byte
	// Header holds optional metadata. It round-trips only when the driver's
	// Capabilities.Headers is true; other drivers ignore it.
	Header map[string]string
}

// HeaderMessageID is the Header key that carries a caller-chosen message id.
// Drivers that can de-duplicate (NATS JetStream) drop a second message with
// an id they have already stored.
const HeaderMessageID = "Eventpub-Msg-Id"

// Transport sends messages to a broker and subscribes to them.
// All methods are safe for concurrent use.
type Transport interface {
	// Publish sends msg. It returns once the driver has taken the message
	// (what that promises is given by Capabilities) or the context ends.
	Publish(ctx context.Context, msg Message) error
	// Subscribe starts delivery of the given channels to a new Subscription.
	// Delivery has begun when Subscribe returns.
	Subscribe(ctx context.Context, channels ...string) (Subscription, error)
	// Ping checks that the broker answers.
	Ping(ctx context.Context) error
	// Capabilities says what this transport guarantees.
	Capabilities() Capabilities
	// Close releases the transport and ends its subscriptions. It is idempotent.
	Close() error
}

// BatchPublisher is implemented by transports that can send many messages in
// one round trip. Messages are sent in order. When it fails, a *BatchError
// tells how many messages at the front of the batch were surely sent.
type BatchPublisher interface {
	PublishBatch(ctx context.Context, msgs []Message) error
}

// PublishAll publishes msgs on t in order, in one PublishBatch when t is a
// BatchPublisher, else one Publish at a time until the first error. It
// returns how many messages at the front were surely sent, and the error.
func PublishAll(ctx context.Context, t Transport, msgs []Message) (sent int, err error) {
	if bp, ok := t.(BatchPublisher); ok && len(msgs) > 1 {
		err := bp.PublishBatch(ctx, msgs)
		if err == nil {
			return len(msgs), nil
		}
		var be *BatchError
		if errors.As(err, &be) {
			return min(max(be.Sent, 0), len(msgs)), err
		}
		return 0, err
	}
	for i := range msgs {
		if err := t.Publish(ctx, msgs[i]); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}

// BatchStarter is implemented by transports that can have several batches
// on their way to the broker at once (JetStream's async publish, a
// pipeline). StartBatch sends msgs in order, after the messages of every
// batch started before it on the transport, and returns without waiting
// for the broker to confirm them; ctx bounds the sending. The transport
// may read msgs (payloads and headers) until the batch's Wait returns, and
// the caller calls Wait once for every batch it started.
//
// Wait returns once the broker has confirmed every message of the batch
// (a Flusher's Flush is not needed for them) or with what PublishBatch
// would have returned for msgs: an error, a *BatchError when some went,
// with Results when the transport learns each message's fate. A failure
// to send is returned by Wait too. With a done ctx Wait returns at once.
// A message refused on its own (its channel, its size) must not stop the
// ones after it in the batch: later batches may be on their way already,
// so Wait gives its fate in Results while the others go.
//
// eventpub's async queue keeps a window of batches in flight on such a
// transport and settles them strictly in the order they were started:
// when one fails, it waits for those started after it and sends that one
// and all of them again, in order (at least once).
type BatchStarter interface {
	StartBatch(ctx context.Context, msgs []Message) PendingBatch
}

// PendingBatch is a batch a BatchStarter has started.
type PendingBatch interface {
	Wait(ctx context.Context) error
}

// Flusher is implemented by transports whose Publish and PublishBatch may
// return before the broker has the message (core NATS hands it to a client
// buffer). Flush returns once the broker has confirmed every message
// published on the transport before the call, or fails (ErrUnavailable,
// a done context); after a failure, messages published since the last
// successful Flush may or may not have arrived. eventpub's async queue
// flushes every batch before it counts the batch as published, and sends
// it again when the flush fails: at least once.
type Flusher interface {
	Flush(ctx context.Context) error
}

// ContextCloser is implemented by transports whose Close may wait (for
// acks on their way, to flush what a client buffers, for consumers to
// stop). CloseContext is Close that stops waiting when ctx ends, and
// still releases everything; with a done ctx it waits for nothing.
// eventpub's Publisher.Close calls it with its own context.
type ContextCloser interface {
	CloseContext(ctx context.Context) error
}

// PatternSubscriber is implemented by transports that can subscribe to
// channel patterns. The pattern syntax is the broker's own: Redis globs
// ("codeworm:*"), NATS wildcards ("codeworm.>"). Each Message carries the
// channel it was published on, not the pattern.
type PatternSubscriber interface {
	SubscribePattern(ctx context.Context, patterns ...string) (Subscription, error)
}

// Subscription delivers the messages of the channels it was opened for.
type Subscription interface {
	// Next blocks until a message arrives, the context ends (ctx.Err()) or
	// the subscription or its transport is closed (ErrClosed).
	Next(ctx context.Context) (Message, error)
	// Close stops delivery. It is idempotent.
	Close() error
}

// Capabilities describes what a transport guarantees.
type Capabilities struct {
	// Persistent: a subscriber can read what was published before it subscribed.
	Persistent bool
	// Headers: Message.Header round-trips.
	Headers bool
	// Ordered: one publisher's messages on one channel arrive in order.
	Ordered bool
	// MaxPayload is the largest payload in bytes; 0 means no limit is known.
	MaxPayload int
}

// The sentinel errors every driver classifies its failures with.
var (
	// ErrClosed: the transport or subscription was closed.
	ErrClosed = errors.New("eventpub: closed")
	// ErrUnavailable: the broker cannot be reached now. It wraps the cause.
	ErrUnavailable = errors.New("eventpub: broker unavailable")
	// ErrAuth: the broker refused the credentials, or the permission for
	// this channel. Retrying does not help until the configuration changes.
	ErrAuth = errors.New("eventpub: not authorized")
	// ErrPayloadTooLarge: the payload is over Capabilities.MaxPayload.
	ErrPayloadTooLarge = errors.New("eventpub: payload too large")
	// ErrInvalidChannel: the channel name is empty, breaks the rules of
	// ValidateChannel, or the broker cannot carry it.
	ErrInvalidChannel = errors.New("eventpub: invalid channel")
	// ErrUnknownOutcome: the message was handed to the broker but no
	// confirmation came (the link broke or stalled, or the wait timed out):
	// it may or may not have been stored or delivered. A caller who sends
	// it again may make a duplicate. It wraps ErrUnavailable, so
	// errors.Is(err, ErrUnavailable) holds too; an error without it that
	// matches ErrUnavailable means the message was not sent.
	ErrUnknownOutcome = fmt.Errorf("%w: the outcome is unknown, the message may have been sent", ErrUnavailable)
)

// BatchError reports a PublishBatch that failed part way.
type BatchError struct {
	// Sent counts the messages at the front of the batch that were surely sent.
	Sent int
	// Results, when not nil, has one entry per message of the batch: nil
	// for a message surely sent, else why it was not. A driver that learns
	// each message's fate (a reply per pipelined command, an ack per
	// message) sets it, so that a message refused in the middle of a batch
	// does not make the caller send the messages after it again.
	Results []error
	// Err is why the batch did not go through whole. A driver always sets
	// it; Error copes when one does not.
	Err error
}

func (e *BatchError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("eventpub: batch failed after %d messages sent", e.Sent)
	}
	return e.Err.Error()
}

// Unwrap returns the cause, so errors.Is sees the sentinel inside.
func (e *BatchError) Unwrap() error { return e.Err }

// Unavailable wraps cause so that errors.Is(err, ErrUnavailable) and
// errors.Is(err, cause) both hold. The message is "eventpub: broker
// unavailable: " and the cause's text; the caller must strip secrets first.
func Unavailable(cause error) error {
	if cause == nil {
		return ErrUnavailable
	}
	return &wrapped{sentinel: ErrUnavailable, cause: cause}
}

// UnknownOutcome wraps cause so that errors.Is(err, ErrUnknownOutcome),
// errors.Is(err, ErrUnavailable) and errors.Is(err, cause) all hold. The
// caller must strip secrets from cause first.
func UnknownOutcome(cause error) error {
	if cause == nil {
		return ErrUnknownOutcome
	}
	return &wrapped{sentinel: ErrUnknownOutcome, cause: cause}
}

// Invalid returns an error that matches sentinel with errors.Is and says what
// was wrong, e.g. Invalid(ErrInvalidChannel, "channel %q has a space", ch).
func Invalid(sentinel error, format string, args ...any) error {
	return &wrapped{sentinel: sentinel, cause: fmt.Errorf(format, args...)}
}

type wrapped struct {
	sentinel error
	cause    error
}

func (w *wrapped) Error() string   { return w.sentinel.Error() + ": " + w.cause.Error() }
func (w *wrapped) Unwrap() []error { return []error{w.sentinel, w.cause} }
