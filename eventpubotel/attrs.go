package eventpubotel

import (
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys and values (OpenTelemetry messaging semantic conventions).
const (
	keySystem        = attribute.Key("messaging.system")
	keyDestination   = attribute.Key("messaging.destination.name")
	keyOperationType = attribute.Key("messaging.operation.type")
	keyOperationName = attribute.Key("messaging.operation.name")
	keyErrorType     = attribute.Key("error.type")
)

// The operations: a sync publish sends; an async one creates the message
// (queues it) and the queue's sender sends it later.
const (
	opSend = iota
	opCreate
	numOps
)

var (
	opTypes = [numOps]string{opSend: "send", opCreate: "create"}
	opNames = [numOps]string{opSend: "publish", opCreate: "create"}
)

// maxCached bounds the (system, channel) pairs whose options are kept; a
// pair beyond it gets options built per call (a bridge relaying patterns
// may meet channel names without end).
const maxCached = 4096

// opts is one attribute set as options of every kind a call takes, built
// once so that reporting allocates nothing (a variadic argument passed to
// an interface method escapes; a prebuilt slice does not).
type opts struct {
	add []metric.AddOption
	rec []metric.RecordOption
}

func newOpts(kvs ...attribute.KeyValue) opts {
	o := metric.WithAttributeSet(attribute.NewSet(kvs...))
	return opts{add: []metric.AddOption{o}, rec: []metric.RecordOption{o}}
}

// attrs holds every option set used for one (system, channel) pair.
type attrs struct {
	ops    [numOps]opts                // without error.type
	errs   [numOps][numErrorTypes]opts // with error.type
	system opts                        // messaging.system alone (the gauges)

	spanName [numOps]string
	spanOpts [numOps][]trace.SpanStartOption
}

func newAttrs(system, channel string) *attrs {
	a := &attrs{system: newOpts(keySystem.String(system))}
	for op := range numOps {
		kvs := []attribute.KeyValue{
			keySystem.String(system),
			keyOperationType.String(opTypes[op]),
			keyOperationName.String(opNames[op]),
		}
		if channel != "" {
			kvs = append(kvs, keyDestination.String(channel))
		}
		a.ops[op] = newOpts(kvs...)
		for et := range numErrorTypes {
			a.errs[op][et] = newOpts(append(kvs[:len(kvs):len(kvs)], keyErrorType.String(errorTypeNames[et]))...)
		}
		a.spanName[op] = opNames[op]
		if channel != "" {
			a.spanName[op] += " " + channel
		}
		a.spanOpts[op] = []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(kvs...)}
	}
	return a
}

type attrKey struct{ system, channel string }

// attrCache maps (system, channel) to its attrs. Reads are one atomic load
// and a map lookup; a new pair copies the map (rare: once per channel).
type attrCache struct {
	m  atomic.Pointer[map[attrKey]*attrs]
	mu sync.Mutex // serialises writers
}

func (c *attrCache) get(system, channel string) *attrs {
	k := attrKey{system, channel}
	if m := c.m.Load(); m != nil {
		if a, ok := (*m)[k]; ok {
			return a
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var old map[attrKey]*attrs
	if m := c.m.Load(); m != nil {
		old = *m
		if a, ok := old[k]; ok {
			return a
		}
	}
	a := newAttrs(system, channel)
	if len(old) >= maxCached {
		return a
	}
	m := make(map[attrKey]*attrs, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[k] = a
	c.m.Store(&m)
	return a
}
