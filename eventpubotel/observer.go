package eventpubotel

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	metricnoop "go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/eventpub/eventpub/observe"
)

// ScopeName is the instrumentation scope of the meter and tracer.
const ScopeName = "github.com/eventpub/eventpub/eventpubotel"

// Metric names (see the package doc for units and attributes).
const (
	MetricPublished = "eventpub.messages.published"
	MetricDropped   = "eventpub.messages.dropped"
	MetricFailed    = "eventpub.messages.failed"
	MetricRetried   = "eventpub.messages.retried"
	MetricDuration  = "messaging.client.operation.duration"
	MetricQueue     = "eventpub.queue.depth"
	MetricLinkUp    = "eventpub.link.up"
)

// durationBuckets are the histogram's bucket bounds in seconds: from
// 100 µs (an in-process or local broker) to 10 s.
var durationBuckets = []float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// Option configures an Observer.
type Option func(*config)

type config struct {
	mp   metric.MeterProvider
	tp   trace.TracerProvider
	prop propagation.TextMapPropagator
}

// WithMeterProvider sets where metrics go; the default is the global
// provider (otel.GetMeterProvider). A no-op provider
// (go.opentelemetry.io/otel/metric/noop) turns metrics off: nothing is
// looked up or timed per message.
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// WithTracerProvider sets where spans go; the default is the global
// provider (otel.GetTracerProvider). A no-op provider
// (go.opentelemetry.io/otel/trace/noop) turns tracing off: no span is
// started and no header is added.
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithPropagator sets how the trace context is written into and read from
// message headers; the default is W3C Trace Context and Baggage.
func WithPropagator(p propagation.TextMapPropagator) Option {
	return func(c *config) { c.prop = p }
}

// Observer records what an eventpub Publisher, queue or bridge reports as
// OpenTelemetry metrics, and traces each publish (see the package doc). It
// is an observe.Observer, an observe.Timing and an observe.Tracer; pass it
// to eventpub.WithObserver (or bridge.WithObserver, memory.WithObserver).
// It is safe for concurrent use.
type Observer struct {
	published, dropped, failed, retried metric.Int64Counter
	duration                            metric.Float64Histogram
	depth, link                         metric.Int64Gauge

	metrics bool // false with a no-op meter provider
	tracer  trace.Tracer
	tracing bool // false with a no-op tracer provider
	prop    propagation.TextMapPropagator

	cache attrCache
}

var (
	_ observe.Observer = (*Observer)(nil)
	_ observe.Timing   = (*Observer)(nil)
	_ observe.Tracer   = (*Observer)(nil)
)

// New returns an Observer recording to the configured providers. It fails
// only when the meter provider refuses to create an instrument.
func New(opts ...Option) (*Observer, error) {
	var cfg config
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.mp == nil {
		cfg.mp = otel.GetMeterProvider()
	}
	if cfg.tp == nil {
		cfg.tp = otel.GetTracerProvider()
	}
	if cfg.prop == nil {
		cfg.prop = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})
	}
	m := cfg.mp.Meter(ScopeName)
	o := &Observer{tracer: cfg.tp.Tracer(ScopeName), prop: cfg.prop}
	switch cfg.tp.(type) {
	case tracenoop.TracerProvider, *tracenoop.TracerProvider:
	default:
		o.tracing = true
	}
	switch cfg.mp.(type) {
	case metricnoop.MeterProvider, *metricnoop.MeterProvider:
	default:
		o.metrics = true
	}
	var errs []error
	note := func(name string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
		}
	}
	counter := func(name, desc string) metric.Int64Counter {
		c, err := m.Int64Counter(name, metric.WithUnit("{message}"), metric.WithDescription(desc))
		note(name, err)
		return c
	}
	o.published = counter(MetricPublished, "Messages the broker confirmed.")
	o.dropped = counter(MetricDropped, "Messages an overflow policy discarded.")
	o.failed = counter(MetricFailed, "Messages that will not be delivered: refused for good, undelivered at close, or a sync publish that returned an error.")
	o.retried = counter(MetricRetried, "Messages of a send that failed and will be repeated, once per try.")
	var err error
	o.duration, err = m.Float64Histogram(MetricDuration, metric.WithUnit("s"),
		metric.WithDescription("Duration of a publish, from accepting the message to the broker's confirmation."),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	note(MetricDuration, err)
	o.depth, err = m.Int64Gauge(MetricQueue, metric.WithUnit("{message}"),
		metric.WithDescription("Messages in the async queue, those being sent included."))
	note(MetricQueue, err)
	o.link, err = m.Int64Gauge(MetricLinkUp,
		metric.WithDescription("1 while the link to the broker is up, 0 while it is down."))
	note(MetricLinkUp, err)
	if len(errs) > 0 {
		return nil, fmt.Errorf("eventpubotel: creating instruments: %w", errors.Join(errs...))
	}
	return o, nil
}

// bg is the context of every measurement: observer calls carry none.
var bg = context.Background()

// Accepted records nothing: every accepted message ends up published,
// dropped or failed, and Publisher.Metrics counts the ones still queued.
func (o *Observer) Accepted(observe.Outcome) {}

// Published counts confirmed messages and records their latency.
func (o *Observer) Published(out observe.Outcome) {
	if !o.metrics {
		return
	}
	a := o.cache.get(out.System, out.Channel)
	o.published.Add(bg, int64(out.Count), a.ops[opSend].add...)
	if out.Latency > 0 {
		o.duration.Record(bg, out.Latency.Seconds(), a.ops[opSend].rec...)
	}
}

// Dropped counts messages an overflow policy discarded.
func (o *Observer) Dropped(out observe.Outcome) {
	if !o.metrics {
		return
	}
	a := o.cache.get(out.System, out.Channel)
	o.dropped.Add(bg, int64(out.Count), a.errs[opCreate][dropType(out.Err)].add...)
}

// Failed counts messages that will not be delivered.
func (o *Observer) Failed(out observe.Outcome) {
	if !o.metrics {
		return
	}
	a := o.cache.get(out.System, out.Channel)
	o.failed.Add(bg, int64(out.Count), a.errs[opSend][errorType(out.Err)].add...)
}

// Retried counts the messages of a failed try that will be repeated.
func (o *Observer) Retried(out observe.Outcome) {
	if !o.metrics {
		return
	}
	a := o.cache.get(out.System, out.Channel)
	o.retried.Add(bg, int64(out.Count), a.errs[opSend][errorType(out.Err)].add...)
}

// QueueDepth records the async queue's depth.
func (o *Observer) QueueDepth(system string, depth int) {
	if !o.metrics {
		return
	}
	o.depth.Record(bg, int64(depth), o.cache.get(system, "").system.rec...)
}

// Link records the link going down (0) or up (1).
func (o *Observer) Link(system string, up bool, _ error) {
	if !o.metrics {
		return
	}
	v := int64(0)
	if up {
		v = 1
	}
	o.link.Record(bg, v, o.cache.get(system, "").system.rec...)
}

// WantsLatency reports whether the Observer records metrics: the latency
// histogram needs the latency.
func (o *Observer) WantsLatency() bool { return o.metrics }
