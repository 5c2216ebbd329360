package observe

import "context"

// Publish describes one message a Publisher accepts, for a [Tracer].
type Publish struct {
	// Channel is the message's channel.
	Channel string
	// System is the messaging system, as in Outcome.
	System string
	// Async is true when the message goes to the async queue: the traced
	// operation is the queueing ("create"), not the send.
	Async bool
	// Header is the message's header, possibly nil. It belongs to the
	// caller: a Tracer must not modify it.
	Header map[string]string
	// Inject is true when the transport carries headers
	// (Capabilities.Headers), so that a trace context added to the header
	// reaches subscribers.
	Inject bool
}

// Tracer is implemented by an Observer that traces publishes. A Publisher
// given such an observer (eventpub.WithObserver) calls StartPublish on the
// publishing goroutine, with the caller's context, for every message it
// accepts: before handing it to the transport (sync) or to the queue
// (async). It then calls EndPublish with the context StartPublish returned
// and the result: the transport's error (sync) or the queue's (async:
// nil once queued, ErrQueueFull when dropped). A Publisher with no Tracer
// makes no such call.
//
// StartPublish returns the context to publish with (carrying the span) and
// the header to send: p.Header itself, or, only when p.Inject is true, a
// new map holding p.Header's entries and the trace context. The payload is
// never touched: on a transport without headers no context crosses.
type Tracer interface {
	StartPublish(ctx context.Context, p Publish) (context.Context, map[string]string)
	EndPublish(ctx context.Context, err error)
}

// TracerOf returns o when it implements Tracer, the first of its observers
// that does when o is a Multi, else nil.
func TracerOf(o Observer) Tracer {
	switch o := o.(type) {
	case Tracer:
		return o
	case multi:
		for _, x := range o.obs {
			if t, ok := x.(Tracer); ok {
				return t
			}
		}
	}
	return nil
}
