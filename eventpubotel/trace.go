package eventpubotel

import (
	"context"
	"maps"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/transport"
)

// errorTypeKVs are the error.type attributes, one per type.
var errorTypeKVs = func() (kvs [numErrorTypes]attribute.KeyValue) {
	for i, n := range errorTypeNames {
		kvs[i] = keyErrorType.String(n)
	}
	return kvs
}()

// StartPublish starts a producer span for one accepted message (a Publisher
// calls it; see observe.Tracer) and, when p.Inject, returns a copy of the
// header with the trace context added by the propagator.
func (o *Observer) StartPublish(ctx context.Context, p observe.Publish) (context.Context, map[string]string) {
	if !o.tracing {
		return ctx, p.Header
	}
	op := opSend
	if p.Async {
		op = opCreate
	}
	a := o.cache.get(p.System, p.Channel)
	ctx, _ = o.tracer.Start(ctx, a.spanName[op], a.spanOpts[op]...)
	if !p.Inject {
		return ctx, p.Header
	}
	c := &injector{src: p.Header}
	o.prop.Inject(ctx, c)
	if c.dst == nil {
		return ctx, p.Header
	}
	return ctx, c.dst
}

// EndPublish ends the span StartPublish started, with err's error.type and
// an error status when err is not nil.
func (o *Observer) EndPublish(ctx context.Context, err error) {
	if !o.tracing {
		return
	}
	span := trace.SpanFromContext(ctx)
	if err != nil {
		span.SetAttributes(errorTypeKVs[errorType(err)])
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Extract returns ctx with the trace context (and baggage) that msg's
// header carries, read with the Observer's propagator; header keys match
// whatever their case. A subscriber starts its own spans from the result
// so that they join the publisher's trace. A message from a transport
// without headers (Redis pub/sub) carries none: ctx comes back as it is.
func (o *Observer) Extract(ctx context.Context, msg transport.Message) context.Context {
	if len(msg.Header) == 0 {
		return ctx
	}
	return o.prop.Extract(ctx, headerReader(msg.Header))
}

// injector is the carrier StartPublish injects into: it copies the
// caller's header on the first Set, so the caller's map is never written.
type injector struct {
	src, dst map[string]string
}

func (c *injector) Get(key string) string { return headerReader(c.src).Get(key) }

func (c *injector) Set(key, value string) {
	if c.dst == nil {
		c.dst = make(map[string]string, len(c.src)+2)
		maps.Copy(c.dst, c.src)
	}
	c.dst[key] = value
}

func (c *injector) Keys() []string { return headerReader(c.src).Keys() }

// headerReader is a received header as a read-only carrier whose Get
// ignores the case of keys.
type headerReader map[string]string

func (h headerReader) Get(key string) string {
	if v, ok := h[key]; ok {
		return v
	}
	for k, v := range h {
		if strings.EqualFold(k, key) {
			return v
		}
	}
	return ""
}

// Set does nothing: Extract only reads.
func (h headerReader) Set(string, string) {}

func (h headerReader) Keys() []string {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	return keys
}
