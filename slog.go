package eventpub

import (
	"context"
	"log/slog"
	"strings"
	"time"
)

// SlogOptions configures the handler NewSlogHandler returns.
type SlogOptions struct {
	// Level is the minimum level published; nil means slog.LevelInfo.
	Level slog.Leveler
	// Timeout bounds how long one record may wait: for a synchronous
	// Publisher's send, or for room in an async Publisher's queue under the
	// Block policy. 0 means 250ms.
	Timeout time.Duration
}

// NewSlogHandler returns a log/slog handler that publishes every record to
// the Publisher's logs channel in the form CodeWorm's structlog pipeline
// produced:
//
//	{"event":"cycle complete","level":"info","repo":"CodeWorm","timestamp":"2026-02-19T13:29:00.123456Z"}
//
// "event" is the message; "level" is debug, info, warning or error (other
// levels lower-cased, e.g. "error+4"); "timestamp" is the record's time in
// UTC with microseconds and a Z. Attributes are keys; a group is an object
// under its name. A record's own "event", "level" or "timestamp" attribute
// is replaced by the handler's.
//
// Handle never returns an error and never fails the caller's logging: a
// failed publish is counted in the Publisher's Metrics. A record waits at
// most SlogOptions.Timeout (save for the core-NATS stall that package nats
// documents under Config.PublishTimeout); give the handler an async Publisher (WithAsync
// with DropNewest or DropOldest) for logging that never waits on the network.
func NewSlogHandler(pub *Publisher, opts *SlogOptions) slog.Handler {
	h := &slogHandler{pub: pub, level: slog.LevelInfo, timeout: 250 * time.Millisecond}
	if opts != nil {
		if opts.Level != nil {
			h.level = opts.Level
		}
		if opts.Timeout > 0 {
			h.timeout = opts.Timeout
		}
	}
	return h
}

type slogHandler struct {
	pub     *Publisher
	level   slog.Leveler
	timeout time.Duration
	// bound holds the attributes of WithAttrs as ops in order: each adds
	// attributes under the groups open at that point.
	bound  []boundAttrs
	groups []string // groups opened by WithGroup, outermost first
}

type boundAttrs struct {
	groups []string
	attrs  []slog.Attr
}

func (h *slogHandler) Enabled(_ context.Context, l slog.Level) bool {
	return l >= h.level.Level()
}

func (h *slogHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	c := *h
	c.bound = append(h.bound[:len(h.bound):len(h.bound)], boundAttrs{groups: h.groups, attrs: attrs})
	return &c
}

func (h *slogHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.groups = append(h.groups[:len(h.groups):len(h.groups)], name)
	return &c
}

func (h *slogHandler) Handle(ctx context.Context, r slog.Record) error {
	fields := make(map[string]any, 4+r.NumAttrs())
	for _, b := range h.bound {
		addAttrs(fields, b.groups, b.attrs)
	}
	r.Attrs(func(a slog.Attr) bool {
		addAttrs(fields, h.groups, []slog.Attr{a})
		return true
	})
	fields["event"] = r.Message
	fields["level"] = levelName(r.Level)
	if !r.Time.IsZero() {
		fields["timestamp"] = r.Time.UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.timeout)
	defer cancel()
	_ = h.pub.PublishLog(ctx, fields)
	return nil
}

// addAttrs puts attrs into m under groups; a group's map is made only
// when an attribute lands in it, so empty groups leave no key.
func addAttrs(m map[string]any, groups []string, attrs []slog.Attr) {
	for _, a := range attrs {
		v := a.Value.Resolve()
		switch {
		case v.Kind() == slog.KindGroup && a.Key == "":
			addAttrs(m, groups, v.Group()) // an unnamed group is inlined
		case v.Kind() == slog.KindGroup:
			addAttrs(m, append(groups[:len(groups):len(groups)], a.Key), v.Group())
		case a.Key != "": // an empty attribute is ignored
			put(m, groups, a.Key, slogValue(v))
		}
	}
}

func put(m map[string]any, groups []string, key string, v any) {
	for _, g := range groups {
		sub, ok := m[g].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[g] = sub
		}
		m = sub
	}
	m[key] = v
}

func slogValue(v slog.Value) any {
	switch v.Kind() {
	case slog.KindString:
		return v.String()
	case slog.KindInt64:
		return v.Int64()
	case slog.KindUint64:
		return v.Uint64()
	case slog.KindFloat64:
		return v.Float64()
	case slog.KindBool:
		return v.Bool()
	case slog.KindDuration:
		return v.Duration().String()
	case slog.KindTime:
		return v.Time().UTC().Format("2006-01-02T15:04:05.000000Z")
	}
	return v.Any()
}

// levelName gives structlog's level names for slog's four levels.
func levelName(l slog.Level) string {
	switch l {
	case slog.LevelDebug:
		return "debug"
	case slog.LevelInfo:
		return "info"
	case slog.LevelWarn:
		return "warning"
	case slog.LevelError:
		return "error"
	}
	return strings.ToLower(l.String())
}
