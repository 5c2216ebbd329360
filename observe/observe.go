// Package observe is the one place every part of eventpub reports what
// happens to messages: the Publisher, the async queue (package sendq), the
// bridge, the tee and the memory broker all call an [Observer].
//
// An Observer hears, with the channel, the messaging system's name
// (transport.Namer: "redis", "nats", …) and a count: messages accepted,
// published (confirmed by the broker), dropped (by an overflow policy or a
// slow subscriber), failed (refused for good, or undelivered at Close) and
// retried (a try that failed and will be repeated, with its error); the
// async queue's depth; and the link going down or coming back.
//
// [Counters] is the observer behind every counter eventpub shows
// (Publisher.Metrics, bridge.Stats, tee.TargetStats). [ErrorReporter] turns
// failures into calls of an error handler: on a goroutine of its own, at
// most once per interval. [Multi] sends every report to several observers.
// Metrics and tracing (OpenTelemetry, package eventpubotel) plug in as
// further observers; one that implements [Timing] also gets each
// publish's latency, and one that implements [Tracer] is called by the
// Publisher with the caller's context around each publish.
//
// Reporting costs no allocation: an Outcome is passed by value and holds
// only what the reporter had already (the channel string, an error value).
// Observers are called on the goroutine that publishes or sends and must
// return quickly and never call back into what reports to them.
package observe

import "time"

// Outcome describes what happened to Count messages on one channel.
type Outcome struct {
	// Channel is the messages' channel; "" when they span several.
	Channel string
	// System is the messaging system ("redis", "nats", "rabbitmq", "mqtt",
	// "kafka", "memory"), or "" when the transport does not say.
	System string
	// Count is how many messages this outcome is about (at least 1).
	Count int
	// Err is why they failed, were dropped or will be retried; nil for
	// Accepted and Published.
	Err error
	// Latency is, on Published, the time from accepting the messages to
	// the broker's confirmation. It is measured only for an observer that
	// implements Timing and wants it; otherwise it is 0.
	Latency time.Duration
}

// Observer hears what happens to messages. Every method must be safe for
// concurrent use and return quickly.
type Observer interface {
	// Accepted: a publish call took the messages (valid, encoded, handed
	// to the transport or queued).
	Accepted(Outcome)
	// Published: the broker confirmed the messages.
	Published(Outcome)
	// Dropped: an overflow policy discarded the messages.
	Dropped(Outcome)
	// Failed: the messages will not be delivered (refused for good, or
	// still queued when Close gave up).
	Failed(Outcome)
	// Retried: a try to send the messages failed and will be repeated.
	Retried(Outcome)
	// QueueDepth: the async queue of system now holds depth messages
	// (those being sent included). Reported per batch, not per message.
	QueueDepth(system string, depth int)
	// Link: the link to system went down (err says why) or came back up.
	Link(system string, up bool, err error)
}

// Timing is implemented by an Observer that wants Outcome.Latency: the
// reporter reads the clock twice per publish only when it does.
type Timing interface {
	WantsLatency() bool
}

// Timed reports whether o wants latencies measured.
func Timed(o Observer) bool {
	t, ok := o.(Timing)
	return ok && t.WantsLatency()
}

// Nop is an Observer that ignores everything; embed it to implement only
// the methods you need.
type Nop struct{}

func (Nop) Accepted(Outcome)         {} // Accepted does nothing.
func (Nop) Published(Outcome)        {} // Published does nothing.
func (Nop) Dropped(Outcome)          {} // Dropped does nothing.
func (Nop) Failed(Outcome)           {} // Failed does nothing.
func (Nop) Retried(Outcome)          {} // Retried does nothing.
func (Nop) QueueDepth(string, int)   {} // QueueDepth does nothing.
func (Nop) Link(string, bool, error) {} // Link does nothing.

// Multi returns an Observer that reports to each of obs in order, skipping
// nil ones; nil when none is left, the observer itself when one is.
func Multi(obs ...Observer) Observer {
	var m multi
	for _, o := range obs {
		switch o := o.(type) {
		case nil:
		case multi:
			m.obs = append(m.obs, o.obs...)
			m.timed = m.timed || o.timed
		default:
			m.obs = append(m.obs, o)
			m.timed = m.timed || Timed(o)
		}
	}
	switch len(m.obs) {
	case 0:
		return nil
	case 1:
		return m.obs[0]
	}
	return m
}

type multi struct {
	obs   []Observer
	timed bool
}

func (m multi) WantsLatency() bool { return m.timed }

// each calls report (a method expression such as Observer.Failed: no
// closure, no allocation) on every observer.
func (m multi) each(report func(Observer, Outcome), o Outcome) {
	for _, x := range m.obs {
		report(x, o)
	}
}

func (m multi) Accepted(o Outcome)  { m.each(Observer.Accepted, o) }
func (m multi) Published(o Outcome) { m.each(Observer.Published, o) }
func (m multi) Dropped(o Outcome)   { m.each(Observer.Dropped, o) }
func (m multi) Failed(o Outcome)    { m.each(Observer.Failed, o) }
func (m multi) Retried(o Outcome)   { m.each(Observer.Retried, o) }

func (m multi) QueueDepth(system string, depth int) {
	for _, x := range m.obs {
		x.QueueDepth(system, depth)
	}
}

func (m multi) Link(system string, up bool, err error) {
	for _, x := range m.obs {
		x.Link(system, up, err)
	}
}
