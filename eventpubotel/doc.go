// Package eventpubotel records eventpub's publishing as OpenTelemetry
// metrics and traces, and carries the trace context to subscribers in
// message headers.
//
// An [Observer] is an observe.Observer: pass it to eventpub.WithObserver
// (or bridge.WithObserver, memory.WithObserver). It uses only the
// OpenTelemetry API; the program chooses the SDK and exporters and hands
// their providers to [New] (the global ones by default).
//
//	obs, err := eventpubotel.New(eventpubotel.WithMeterProvider(mp), eventpubotel.WithTracerProvider(tp))
//	pub := eventpub.New(t, eventpub.WithObserver(obs))
//
// # Metrics
//
// Attributes follow OpenTelemetry's messaging semantic conventions:
// messaging.system (the transport's name: "redis", "nats", "memory", …),
// messaging.destination.name (the channel; absent on an outcome that spans
// several channels, such as the messages Close could not deliver),
// messaging.operation.type and messaging.operation.name, and on failures
// error.type.
//
//	name                                 kind       unit       operation.type/name  error.type
//	eventpub.messages.published          counter    {message}  send/publish         -
//	eventpub.messages.failed             counter    {message}  send/publish         yes
//	eventpub.messages.retried            counter    {message}  send/publish         yes
//	eventpub.messages.dropped            counter    {message}  create/create        yes
//	messaging.client.operation.duration  histogram  s          send/publish         -
//	eventpub.queue.depth                 gauge      {message}  (messaging.system only)
//	eventpub.link.up                     gauge      (none)     (messaging.system only)
//
// published counts messages the broker confirmed (eventpub.Metrics says
// what that means per driver); failed counts messages refused for good,
// undelivered at Close, and every sync publish that returned an error;
// retried counts each message of a failed try once per try; dropped counts
// messages an overflow policy discarded, which happens when a message is
// queued (operation "create"). The histogram holds, per confirmed message,
// the time from accepting it to the broker's confirmation (in async mode
// the time in the queue included); its buckets run from 100 µs to 10 s.
// The queue depth is recorded per batch the async queue sends; link.up is
// 0 once the async queue (or a bridge) meets an outage and 1 once it is
// over, and has no value before the first outage (a sync Publisher
// reports no link state: each failed publish shows in failed instead).
// Both gauges carry only messaging.system, so two queues on one system
// share one series. link.up has no unit, so that Prometheus names it
// eventpub_link_up (a unit of 1 would add _ratio).
//
// error.type is one of a bounded set, found with errors.Is against
// eventpub's sentinel errors: queue_full, invalid_channel,
// payload_too_large, auth, config, unknown_outcome, unavailable, closed,
// canceled, timeout, else _OTHER (a drop whose error says nothing more
// specific is queue_full).
//
// OpenTelemetry's messaging.client.sent.messages is not recorded: it
// counts send attempts, where these counters tell confirmed from refused;
// published plus failed comes close to it. Accepted messages are not
// counted either: every one ends in one of the counters above
// (eventpub.Publisher.Metrics has the queued ones).
//
// Reporting allocates nothing per message: the attribute sets and option
// slices of each (system, channel) pair are built once (up to 4096 pairs;
// beyond, per call). A no-op meter provider
// (go.opentelemetry.io/otel/metric/noop) turns metrics off: nothing is
// looked up, and the Publisher does not read the clock for latencies.
//
// # Traces
//
// A Publisher calls the Observer (an observe.Tracer) for every message it
// accepts, on the publishing goroutine with the caller's context, so each
// publish gets a span of kind producer, child of the caller's span, with
// the attributes above; a failure sets error.type and an error status.
//
//   - Sync mode: the span "publish CHANNEL" (operation send) covers the
//     transport's Publish and ends with its error.
//   - Async mode: the span "create CHANNEL" (operation create) covers the
//     queueing and ends with its result (nil once queued, queue_full when
//     dropped). The batch send happens later on the queue's goroutine,
//     with no caller context; its outcome shows in the metrics.
//
// When the transport carries headers (Capabilities.Headers: NATS,
// JetStream, Redis Streams, RabbitMQ, MQTT, Kafka, memory), the span's
// context goes into the message's header through the propagator (W3C
// traceparent and tracestate, and baggage, by default; [WithPropagator]
// changes it). The
// caller's header map is never modified: the Observer sends a copy. A
// subscriber calls [Observer.Extract] on a received message to continue
// the trace. Redis pub/sub carries no headers and its payload stays
// byte for byte what CodeWorm sends: no trace context crosses it, and
// none is ever put into a payload.
//
// A no-op tracer provider (go.opentelemetry.io/otel/trace/noop) turns
// tracing off: no span, no header, no allocation.
//
// # Why this package is in the root module
//
// It is a package of the root module, not a module of its own. `go test
// ./...` from a clone then runs its tests with everything else (a nested
// module is not matched by ./..., even in a workspace), and the eventpub
// command, which serves Prometheus metrics through it, stays one module.
// Go's module graph pruning keeps the cost for a program that does not
// import this package small: it downloads and compiles no OpenTelemetry
// package (nor the Prometheus client the command uses). The cost that remains: when such a program requires an older
// OpenTelemetry itself, minimal version selection raises it to the version
// this module requires.
package eventpubotel
