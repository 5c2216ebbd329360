package bridge_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/eventpub/eventpub/bridge"
	"github.com/eventpub/eventpub/internal/brokertest"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

// ctxT is a context cancelled when the test ends.
func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// side is a memory broker with a transport and a recorder on it.
type side struct {
	b   *memory.Broker
	t   *memory.Transport
	rec *memory.Recorder
}

func newSide(t testing.TB, opts ...memory.Option) side {
	b := memory.NewBroker(opts...)
	s := side{b: b, t: b.Connect()}
	s.rec = memory.NewRecorder(s.t)
	t.Cleanup(func() { s.rec.Close(); _ = s.t.Close() })
	return s
}

// start makes and starts a bridge that is stopped when the test ends.
func start(t testing.TB, from, to transport.Transport, names []string, opts ...bridge.Option) *bridge.Bridge {
	t.Helper()
	b, err := bridge.New(from, to, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctxT(t), names...); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = b.Stop(ctx)
	})
	return b
}

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t testing.TB, what string, cond func() bool, detail ...func() string) {
	t.Helper()
	brokertest.WaitFor(t, 20*time.Second, what, cond, detail...)
}

// checkSum fails the test when the counters do not add up.
func checkSum(t testing.TB, st bridge.Stats) {
	t.Helper()
	if st.Received != st.Relayed+st.Dropped+st.Failed+st.Queued {
		t.Errorf("Stats do not add up: %+v", st)
	}
}

func publishN(t testing.TB, tr transport.Transport, ch string, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := tr.Publish(ctxT(t), transport.Message{Channel: ch, Payload: fmt.Appendf(nil, "m%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
}

func payloads(msgs []transport.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Payload)
	}
	return out
}

func names(from, to int) []string {
	var out []string
	for i := from; i < to; i++ {
		out = append(out, fmt.Sprintf("m%d", i))
	}
	return out
}

// flakyBatch is a target whose first PublishBatch of more than two messages
// that gets through sends two and then fails with ErrUnavailable, as a
// broker dropping mid-batch would.
type flakyBatch struct {
	transport.Transport
	mu     sync.Mutex
	failed bool
	calls  int
}

func (f *flakyBatch) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	bp := f.Transport.(transport.BatchPublisher)
	if f.failed || len(msgs) <= 2 {
		return bp.PublishBatch(ctx, msgs)
	}
	if err := bp.PublishBatch(ctx, msgs[:2]); err != nil {
		return err
	}
	f.failed = true
	return &transport.BatchError{Sent: 2, Err: transport.Unavailable(fmt.Errorf("test: connection lost mid-batch"))}
}

// plain hides memory's optional interfaces.
type plain struct{ transport.Transport }

// gate is a target that holds every send until opened, as a slow broker
// would: the message being sent stays with the sender meanwhile.
type gate struct {
	transport.Transport
	entered   chan struct{} // closed when the first send arrives
	enterOnce sync.Once
	opened    chan struct{}
	openOnce  sync.Once
}

func newGate(to transport.Transport) *gate {
	return &gate{Transport: to, entered: make(chan struct{}), opened: make(chan struct{})}
}

// open lets every send through from now on.
func (g *gate) open() { g.openOnce.Do(func() { close(g.opened) }) }

func (g *gate) wait(ctx context.Context) error {
	g.enterOnce.Do(func() { close(g.entered) })
	select {
	case <-g.opened:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gate) Publish(ctx context.Context, m transport.Message) error {
	if err := g.wait(ctx); err != nil {
		return err
	}
	return g.Transport.Publish(ctx, m)
}

// batchGate is a gate with the target's PublishBatch.
type batchGate struct{ *gate }

func (g batchGate) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	if err := g.wait(ctx); err != nil {
		return err
	}
	return g.Transport.(transport.BatchPublisher).PublishBatch(ctx, msgs)
}

// counting is a memory target that counts send attempts, failed ones
// included.
type counting struct {
	*memory.Transport
	attempts atomic.Int64
}

func (c *counting) Publish(ctx context.Context, m transport.Message) error {
	c.attempts.Add(1)
	return c.Transport.Publish(ctx, m)
}

func (c *counting) PublishBatch(ctx context.Context, msgs []transport.Message) error {
	c.attempts.Add(1)
	return c.Transport.PublishBatch(ctx, msgs)
}
