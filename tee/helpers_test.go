package tee_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// ctxT is a context cancelled when the test ends.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// memTarget is a memory broker, a transport on it and a recorder of it.
type memTarget struct {
	b   *memory.Broker
	t   *memory.Transport
	rec *memory.Recorder
}

func newMem(t testing.TB, opts ...memory.Option) memTarget {
	b := memory.NewBroker(opts...)
	m := memTarget{b: b, t: b.Connect()}
	m.rec = memory.NewRecorder(m.t)
	t.Cleanup(func() { m.rec.Close(); _ = m.t.Close() })
	return m
}

// payloads returns the payloads of msgs as strings.
func payloads(msgs []transport.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Payload)
	}
	return out
}

// limited passes on Publish calls to a memory transport until it has sent
// limit messages, then fails with ErrUnavailable. It has no PublishBatch,
// so the tee falls back to Publish in order.
type limited struct {
	transport.Transport
	mu    sync.Mutex
	limit int
}

var errLimit = errors.New("test: limit reached")

func (l *limited) Publish(ctx context.Context, m transport.Message) error {
	l.mu.Lock()
	if l.limit == 0 {
		l.mu.Unlock()
		return transport.Unavailable(errLimit)
	}
	l.limit--
	l.mu.Unlock()
	return l.Transport.Publish(ctx, m)
}

// String names the target in stats and errors.
func (l *limited) String() string { return "limited" }

// noPatterns hides memory's SubscribePattern and PublishBatch.
type noPatterns struct{ transport.Transport }

func msgs(ch string, n int) []transport.Message {
	out := make([]transport.Message, n)
	for i := range out {
		out[i] = transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "m%d", i)}
	}
	return out
}

// runtimeGosched yields so other goroutines run.
func runtimeGosched() { runtime.Gosched() }
