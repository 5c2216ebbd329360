package eventpub_test

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/transport"
)

type ctxKey struct{}

// fakeTracer is an observe.Tracer that records its calls and adds a
// header entry when it may.
type fakeTracer struct {
	observe.Nop
	mu     sync.Mutex
	starts []observe.Publish
	ends   []error
	ctxOK  []bool // EndPublish got the context StartPublish returned
}

func (f *fakeTracer) StartPublish(ctx context.Context, p observe.Publish) (context.Context, map[string]string) {
	f.mu.Lock()
	f.starts = append(f.starts, p)
	f.mu.Unlock()
	if ctx.Value(ctxKey{}) != "caller" {
		panic("StartPublish did not get the caller's context")
	}
	ctx = context.WithValue(ctx, ctxKey{}, "span")
	if !p.Inject {
		return ctx, p.Header
	}
	h := maps.Clone(p.Header)
	if h == nil {
		h = map[string]string{}
	}
	h["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	return ctx, h
}

func (f *fakeTracer) EndPublish(ctx context.Context, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ends = append(f.ends, err)
	f.ctxOK = append(f.ctxOK, ctx.Value(ctxKey{}) == "span")
}

// noHeaders is a memory transport that says it carries no headers.
type noHeaders struct{ *memory.Transport }

func (n noHeaders) Capabilities() transport.Capabilities {
	c := n.Transport.Capabilities()
	c.Headers = false
	return c
}

// TestTracerHook: a Tracer among the observers hears every accepted
// message with the caller's context, adds its header only on a transport
// with headers, never changes the caller's header, and hears each result.
func TestTracerHook(t *testing.T) {
	ctx := context.WithValue(context.Background(), ctxKey{}, "caller")
	for _, c := range []struct {
		name    string
		headers bool
		async   bool
	}{{"sync", true, false}, {"async", true, true}, {"sync-no-headers", false, false}} {
		t.Run(c.name, func(t *testing.T) {
			br := memory.NewBroker()
			sub, err := br.Connect().Subscribe(ctx, "ch")
			if err != nil {
				t.Fatal(err)
			}
			defer sub.Close()
			var tr transport.Transport = br.Connect()
			if !c.headers {
				tr = noHeaders{br.Connect()}
			}
			ft := &fakeTracer{}
			opts := []eventpub.Option{eventpub.WithObserver(new(observe.Counters), ft)}
			if c.async {
				opts = append(opts, eventpub.WithAsync(10, eventpub.DropNewest))
			}
			pub := eventpub.New(tr, opts...)
			header := map[string]string{"k": "v"}
			if err := pub.PublishMessage(ctx, transport.Message{Channel: "ch", Payload: []byte("p"), Header: header}); err != nil {
				t.Fatal(err)
			}
			if err := pub.Publish(ctx, "bad\x01", []byte("p")); !c.async && !errors.Is(err, eventpub.ErrInvalidChannel) {
				t.Fatalf("publish to a bad channel: %v", err)
			}
			if err := pub.Close(ctx); err != nil && !c.async {
				t.Fatal(err)
			}
			if len(header) != 1 || header["k"] != "v" {
				t.Fatalf("the caller's header became %v", header)
			}
			m, err := sub.Next(ctx)
			if err != nil {
				t.Fatal(err)
			}
			_, traced := m.Header["traceparent"]
			if traced != c.headers || m.Header["k"] != "v" || string(m.Payload) != "p" {
				t.Fatalf("received %q with header %v; want the trace header only when the transport carries headers", m.Payload, m.Header)
			}
			if len(ft.starts) != 2 || len(ft.ends) != 2 {
				t.Fatalf("StartPublish %d times, EndPublish %d times, want 2 each", len(ft.starts), len(ft.ends))
			}
			for i, p := range ft.starts {
				if p.System != "memory" || p.Async != c.async || p.Inject != c.headers || !ft.ctxOK[i] {
					t.Errorf("StartPublish %d got %+v (EndPublish with its context: %v)", i, p, ft.ctxOK[i])
				}
			}
			if ft.ends[0] != nil {
				t.Errorf("EndPublish of the good message got %v", ft.ends[0])
			}
			if !c.async && !errors.Is(ft.ends[1], eventpub.ErrInvalidChannel) {
				t.Errorf("EndPublish of the bad message got %v, want ErrInvalidChannel", ft.ends[1])
			}
		})
	}
}
