package bridge_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/bridge"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/transport"
)

func TestRelayKeepsBytesAndHeaders(t *testing.T) {
	for _, batched := range []bool{true, false} {
		src, dst := newSide(t), newSide(t)
		var to transport.Transport = dst.t
		if !batched {
			to = plain{dst.t}
		}
		b := start(t, src.t, to, []string{"a", "b"})
		sent := []transport.Message{
			{Channel: "a", Payload: []byte{0xff, 0xfe, 0, 'x', 0x80}, Header: map[string]string{"Eventpub-Msg-Id": "1"}},
			{Channel: "b", Payload: nil},
			{Channel: "ignored", Payload: []byte("not bridged")},
			{Channel: "a", Payload: []byte(`{"type":"x","data":{}}`)},
		}
		for _, m := range sent {
			if err := src.t.Publish(ctxT(t), m); err != nil {
				t.Fatal(err)
			}
		}
		got, err := dst.rec.Wait("", 3, 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		want := []transport.Message{sent[0], sent[1], sent[3]}
		for i := range want {
			if got[i].Channel != want[i].Channel || !bytes.Equal(got[i].Payload, want[i].Payload) ||
				got[i].Header["Eventpub-Msg-Id"] != want[i].Header["Eventpub-Msg-Id"] {
				t.Errorf("batched=%v: message %d = %+v, want %+v", batched, i, got[i], want[i])
			}
		}
		if err := b.Stop(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		st := b.Stats()
		if st.Received != 3 || st.Relayed != 3 || st.Queued != 0 {
			t.Errorf("batched=%v: Stats = %+v, want 3 received and relayed", batched, st)
		}
		checkSum(t, st)
		if n := len(dst.rec.Messages("")); n != 3 {
			t.Errorf("the target got %d messages, want 3", n)
		}
	}
}

func TestPatterns(t *testing.T) {
	src, dst := newSide(t), newSide(t)
	start(t, src.t, dst.t, []string{"codeworm:*"}, bridge.WithPatterns())
	publishN(t, src.t, "codeworm:logs", 0, 2)
	publishN(t, src.t, "other", 0, 1)
	publishN(t, src.t, "codeworm:events", 2, 3)
	got, err := dst.rec.Wait("", 3, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p := payloads(got); !slices.Equal(p, []string{"m0", "m1", "m2"}) || got[2].Channel != "codeworm:events" {
		t.Errorf("relayed %q (last on %q), want m0 m1 m2 with their own channels", p, got[2].Channel)
	}

	b, _ := bridge.New(plain{src.t}, dst.t, bridge.WithPatterns())
	err = b.Start(ctxT(t), "codeworm:*")
	if err == nil || !strings.Contains(err.Error(), "cannot subscribe to patterns") {
		t.Errorf("Start with patterns on a source without them = %v, want an error saying so", err)
	}
}

// TestTargetDownCatchUp: the target is down while messages arrive; once it
// is back the bridge relays every one, in order.
func TestTargetDownCatchUp(t *testing.T) {
	src, dst := newSide(t), newSide(t)
	var mu sync.Mutex
	var reported []error
	b := start(t, src.t, dst.t, []string{"ch"}, bridge.WithErrorHandler(func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}))
	publishN(t, src.t, "ch", 0, 10)
	waitFor(t, "the first messages to be relayed", func() bool { return b.Stats().Relayed == 10 })
	dst.b.SetDown(true)
	publishN(t, src.t, "ch", 10, 500)
	waitFor(t, "the bridge to receive all", func() bool { return b.Stats().Received == 500 })
	st := b.Stats()
	if st.Queued != 490 || st.Relayed != 10 {
		t.Errorf("Stats while the target is down = %+v, want 490 queued", st)
	}
	checkSum(t, st)
	dst.b.SetDown(false)
	got, err := dst.rec.Wait("ch", 500, 20*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if p := payloads(got); !slices.Equal(p, names(0, 500)) {
		t.Errorf("the target got %d messages, not m0…m499 in order", len(p))
	}
	waitFor(t, "the queue to empty", func() bool { return b.Stats().Queued == 0 })
	st = b.Stats()
	if st.Relayed != 500 || st.Dropped != 0 || st.Failed != 0 {
		t.Errorf("Stats after catching up = %+v", st)
	}
	checkSum(t, st)
	// The handler hears of failures on its own goroutine, maybe after the
	// queue has caught up.
	waitFor(t, "the error handler to hear of the outage", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(reported) > 0
	})
	mu.Lock()
	defer mu.Unlock()
	if !errors.Is(reported[0], transport.ErrUnavailable) {
		t.Errorf("error handler saw %v, want ErrUnavailable retries", reported)
	}
}

func TestResumeAfterBatchError(t *testing.T) {
	src, dst := newSide(t), newSide(t)
	target := &flakyBatch{Transport: dst.t}
	b := start(t, src.t, target, []string{"ch"})
	dst.b.SetDown(true) // let a batch of several build up
	publishN(t, src.t, "ch", 0, 20)
	waitFor(t, "the bridge to receive all", func() bool { return b.Stats().Received == 20 })
	dst.b.SetDown(false)
	if _, err := dst.rec.Wait("ch", 20, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the queue to empty", func() bool { return b.Stats().Queued == 0 })
	if p := payloads(dst.rec.Messages("ch")); !slices.Equal(p, names(0, 20)) {
		t.Errorf("target got %q, want m0…m19 once each, in order", p)
	}
	target.mu.Lock()
	defer target.mu.Unlock()
	if !target.failed {
		t.Error("the flaky batch never failed; the test did not exercise a resume")
	}
}

// TestOverflow fills a queue of five with ten messages while the target
// is down (the sender backs off between attempts and holds nothing), or
// busy (the sender holds the first message in a send that has not
// returned), then lets the target take them.
func TestOverflow(t *testing.T) {
	cases := []struct {
		policy  eventpub.OverflowPolicy
		busy    bool
		want    []string // what reaches the target, in order
		dropped uint64
	}{
		{eventpub.DropNewest, false, names(0, 5), 5},
		// Nothing is being sent during a backoff, so the newest five win.
		{eventpub.DropOldest, false, names(5, 10), 5},
		// The message being sent is never dropped; the oldest waiting are.
		{eventpub.DropOldest, true, append([]string{"m0"}, names(6, 10)...), 5},
		{eventpub.Block, false, names(0, 10), 0},
	}
	for _, c := range cases {
		name := c.policy.String() + "/down"
		if c.busy {
			name = c.policy.String() + "/busy"
		}
		t.Run(name, func(t *testing.T) {
			src, dst := newSide(t), newSide(t)
			target := &counting{Transport: dst.t}
			g := newGate(target)
			var to transport.Transport = target
			if c.busy {
				to = batchGate{g}
			} else {
				dst.b.SetDown(true)
			}
			b := start(t, src.t, to, []string{"ch"}, bridge.WithCapacity(5), bridge.WithOverflow(c.policy))
			publishN(t, src.t, "ch", 0, 1)
			if c.busy {
				<-g.entered // m0 is with the sender
			} else {
				// Several failed attempts: the backoff is long now, so the
				// queue fills while the sender waits, holding nothing.
				waitFor(t, "the sender to back off", func() bool { return target.attempts.Load() >= 5 })
				// The fifth attempt is counted when it starts: give the
				// sender a moment to see it fail and put the message back
				// (its backoff is 80 ms or more by now).
				time.Sleep(20 * time.Millisecond)
			}
			publishN(t, src.t, "ch", 1, 10)
			if c.policy == eventpub.Block {
				// Five held and one waiting for room; the source is not read
				// further.
				waitFor(t, "the queue to fill", func() bool { return b.Stats().Received == 6 })
				if st := b.Stats(); st.Queued != 6 || st.Dropped != 0 {
					t.Errorf("Stats while blocked = %+v, want 6 queued (one waiting for room), none dropped", st)
				}
			} else {
				waitFor(t, "the bridge to receive all", func() bool { return b.Stats().Received == 10 })
			}
			dst.b.SetDown(false)
			g.open()
			got, err := dst.rec.Wait("ch", len(c.want), 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the queue to empty", func() bool { st := b.Stats(); return st.Queued == 0 && st.Received == 10 })
			st := b.Stats()
			if st.Dropped != c.dropped || st.Relayed != uint64(len(c.want)) || st.Failed != 0 {
				t.Errorf("Stats = %+v, want %d relayed and %d dropped", st, len(c.want), c.dropped)
			}
			checkSum(t, st)
			if p := payloads(got); !slices.Equal(p, c.want) {
				t.Errorf("relayed %q, want %q", p, c.want)
			}
		})
	}
}

func TestRefusedMessageIsCounted(t *testing.T) {
	t.Run("batched", func(t *testing.T) { testRefused(t, true) })
	t.Run("one-by-one", func(t *testing.T) { testRefused(t, false) })
}

func testRefused(t *testing.T, batched bool) {
	src := newSide(t)
	dst := newSide(t, memory.WithMaxPayload(8))
	var mu sync.Mutex
	var reported []error
	// The gate holds m0 in a send so that the other four queue up and go
	// to the target together.
	g := newGate(dst.t)
	var to transport.Transport = g
	if batched {
		to = batchGate{g}
	}
	b := start(t, src.t, to, []string{"ch"}, bridge.WithErrorHandler(func(err error) {
		mu.Lock()
		reported = append(reported, err)
		mu.Unlock()
	}))
	publishN(t, src.t, "ch", 0, 1)
	<-g.entered
	if err := src.t.Publish(ctxT(t), transport.Message{Channel: "ch", Payload: []byte("far too large")}); err != nil {
		t.Fatal(err)
	}
	publishN(t, src.t, "ch", 2, 5)
	waitFor(t, "the bridge to receive all", func() bool { return b.Stats().Received == 5 })
	g.open()
	waitFor(t, "the queue to empty", func() bool { return b.Stats().Queued == 0 })
	st := b.Stats()
	if st.Relayed != 4 || st.Failed != 1 || st.Dropped != 0 {
		t.Errorf("Stats = %+v, want 4 relayed and 1 failed", st)
	}
	checkSum(t, st)
	if p := payloads(dst.rec.Messages("ch")); !slices.Equal(p, []string{"m0", "m2", "m3", "m4"}) {
		t.Errorf("target got %q, want m0 m2 m3 m4", p)
	}
	// The handler hears of failures on its own goroutine.
	waitFor(t, "the error handler to hear of the refused message", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, err := range reported {
			if errors.Is(err, transport.ErrPayloadTooLarge) {
				return true
			}
		}
		return false
	})
}

func TestStopDrainsThenGivesUp(t *testing.T) {
	src, dst := newSide(t), newSide(t)
	b := start(t, src.t, dst.t, []string{"ch"})
	dst.b.SetDown(true)
	publishN(t, src.t, "ch", 0, 50)
	waitFor(t, "the bridge to receive all", func() bool { return b.Stats().Received == 50 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := b.Stop(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "50 messages not relayed") {
		t.Fatalf("Stop with the target down = %v, want a deadline error counting 50 messages", err)
	}
	st := b.Stats()
	if st.Failed != 50 || st.Dropped != 0 || st.Relayed != 0 || st.Queued != 0 {
		t.Errorf("Stats after Stop = %+v, want the 50 undelivered counted as failed, none queued", st)
	}
	checkSum(t, st)
	if again := b.Stop(context.Background()); again != err {
		t.Errorf("second Stop = %v, want the first result", again)
	}
	select {
	case <-b.Done():
	default:
		t.Error("Done is open after Stop")
	}
	if err := b.Start(ctxT(t), "ch"); err == nil {
		t.Error("Start after Stop succeeded")
	}
}

func TestStopDrainsQueue(t *testing.T) {
	src, dst := newSide(t), newSide(t)
	b := start(t, src.t, dst.t, []string{"ch"})
	dst.b.SetDown(true)
	publishN(t, src.t, "ch", 0, 50)
	waitFor(t, "the bridge to receive all", func() bool { return b.Stats().Received == 50 })
	go func() {
		time.Sleep(30 * time.Millisecond)
		dst.b.SetDown(false)
	}()
	if err := b.Stop(ctxT(t)); err != nil {
		t.Fatalf("Stop = %v, want a full drain", err)
	}
	if n := len(dst.rec.Messages("ch")); n != 50 {
		t.Errorf("target got %d messages after the drain, want 50", n)
	}
}

func TestRun(t *testing.T) {
	src, dst := newSide(t), newSide(t)
	b, err := bridge.New(src.t, dst.t)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- b.Run(ctx, "ch") }()
	// Publish until the bridge has subscribed and relayed one.
	waitFor(t, "a relayed message", func() bool {
		publishN(t, src.t, "ch", 0, 1)
		return b.Stats().Relayed > 0
	})
	cancel()
	if err := <-res; err != nil {
		t.Errorf("Run after its context ended = %v, want nil", err)
	}

	// The source closing ends Run with an error saying so.
	src2, dst2 := memory.New(), newSide(t)
	b2, _ := bridge.New(src2, dst2.t)
	go func() { res <- b2.Run(context.Background(), "ch") }()
	waitFor(t, "the bridge to subscribe", func() bool {
		_ = src2.Publish(ctxT(t), transport.Message{Channel: "ch"})
		return b2.Stats().Received > 0
	})
	src2.Close()
	if err := <-res; !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Run after the source closed = %v, want ErrClosed", err)
	}
	if !errors.Is(b2.Err(), transport.ErrClosed) {
		t.Errorf("Err = %v, want ErrClosed", b2.Err())
	}
}

func TestBadInput(t *testing.T) {
	m := memory.New()
	defer m.Close()
	for _, c := range []struct {
		name     string
		from, to transport.Transport
		opts     []bridge.Option
		want     string
	}{
		{"nil source", nil, m, nil, "nil"},
		{"nil target", m, nil, nil, "nil"},
		{"capacity", m, m, []bridge.Option{bridge.WithCapacity(0)}, "capacity 0"},
		{"overflow", m, m, []bridge.Option{bridge.WithOverflow(9)}, "OverflowPolicy(9)"},
		{"drain", m, m, []bridge.Option{bridge.WithDrainTimeout(-time.Second)}, "drain timeout -1s"},
		{"both", m, m, []bridge.Option{bridge.WithCapacity(-2), bridge.WithOverflow(-1)}, "capacity -2 is below 1; unknown overflow policy OverflowPolicy(-1)"},
	} {
		b, err := bridge.New(c.from, c.to, c.opts...)
		if err == nil || b != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New = %v, %v; want an error containing %q", c.name, b, err, c.want)
		}
	}
	b, _ := bridge.New(m, m)
	if st := b.Stats(); st != (bridge.Stats{}) {
		t.Errorf("Stats before Start = %+v, want zero", st)
	}
	var nilCtx context.Context
	if err := b.Start(nilCtx, "x"); err == nil || !strings.Contains(err.Error(), "nil context") {
		t.Errorf("Start with a nil context = %v, want an error saying so", err)
	}
	if err := b.Start(ctxT(t)); !errors.Is(err, transport.ErrInvalidChannel) {
		t.Errorf("Start with no channel = %v, want ErrInvalidChannel", err)
	}
	if err := b.Start(ctxT(t), ""); !errors.Is(err, transport.ErrInvalidChannel) {
		t.Errorf("Start with an empty channel = %v, want the source's ErrInvalidChannel", err)
	}
	if err := b.Start(ctxT(t), "x"); err != nil {
		t.Fatal(err)
	}
	if err := b.Start(ctxT(t), "x"); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("second Start = %v, want an error", err)
	}
	if err := b.Stop(nilCtx); err == nil || !strings.Contains(err.Error(), "nil context") {
		t.Errorf("Stop with a nil context = %v, want an error saying so", err)
	}
	if err := b.Stop(ctxT(t)); err != nil {
		t.Errorf("Stop after a refused Stop = %v, want nil", err)
	}
	if err := m.Ping(ctxT(t)); err != nil {
		t.Errorf("Stop closed a transport it does not own: %v", err)
	}
}
