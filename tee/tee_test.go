package tee_test

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/tee"
	"github.com/eventpub/eventpub/transport"
)

func TestPublishReachesEveryTarget(t *testing.T) {
	for _, seq := range []bool{false, true} {
		name := "concurrent"
		var opts []tee.Option
		if seq {
			name = "sequential"
			opts = append(opts, tee.WithSequential())
		}
		t.Run(name, func(t *testing.T) {
			a, b, c := newMem(t), newMem(t), newMem(t)
			tt, err := tee.New(a.t, []transport.Transport{b.t, c.t}, append(opts, tee.WithKeepOpen())...)
			if err != nil {
				t.Fatal(err)
			}
			defer tt.Close()
			payload := []byte{0, 0xff, 'x', 0x80}
			hdr := map[string]string{"k": "v"}
			for i := 0; i < 3; i++ {
				if err := tt.Publish(ctxT(t), transport.Message{Channel: "ch", Payload: payload, Header: hdr}); err != nil {
					t.Fatal(err)
				}
			}
			if err := tt.PublishBatch(ctxT(t), msgs("ch", 2)); err != nil {
				t.Fatal(err)
			}
			for i, m := range []memTarget{a, b, c} {
				got := m.rec.Messages("ch")
				if len(got) != 5 {
					t.Fatalf("target %d got %d messages, want 5", i, len(got))
				}
				if !bytes.Equal(got[0].Payload, payload) || got[0].Header["k"] != "v" {
					t.Errorf("target %d got %q %v, want the bytes and header as published", i, got[0].Payload, got[0].Header)
				}
				if p := payloads(got[3:]); !slices.Equal(p, []string{"m0", "m1"}) {
					t.Errorf("target %d batch = %q", i, p)
				}
			}
			st := tt.Stats()
			if len(st) != 3 || !st[0].Primary || st[1].Primary {
				t.Fatalf("Stats = %+v, want 3 targets, the first primary", st)
			}
			for i, s := range st {
				if s.Published != 5 || s.Failed != 0 {
					t.Errorf("target %d stats = %+v, want 5 published", i, s)
				}
			}
		})
	}
}

func TestSecondaryFailurePolicy(t *testing.T) {
	cases := []struct {
		policy  tee.SecondaryFailure
		wantErr bool
	}{{tee.CountAndContinue, false}, {tee.FailCall, true}}
	for _, c := range cases {
		t.Run(c.policy.String(), func(t *testing.T) {
			a, b := newMem(t), newMem(t)
			reported := make(chan error, 10)
			tt, err := tee.New(a.t, []transport.Transport{b.t}, tee.WithKeepOpen(), tee.WithSecondaryFailure(c.policy),
				tee.WithErrorHandler(func(name string, err error) {
					if !strings.Contains(name, "memory") {
						err = errors.New("handler given the name " + strconv.Quote(name) + ", want the memory target's")
					}
					reported <- err
				}))
			if err != nil {
				t.Fatal(err)
			}
			defer tt.Close()
			b.b.SetDown(true)
			err = tt.Publish(ctxT(t), transport.Message{Channel: "ch", Payload: []byte("x")})
			if c.wantErr {
				if !errors.Is(err, transport.ErrUnavailable) || !strings.Contains(err.Error(), "secondary") {
					t.Fatalf("Publish = %v, want an ErrUnavailable naming the secondary", err)
				}
			} else if err != nil {
				t.Fatalf("Publish = %v, want nil under CountAndContinue", err)
			}
			if n := len(a.rec.Messages("ch")); n != 1 {
				t.Errorf("primary got %d messages, want 1", n)
			}
			st := tt.Stats()
			if st[0].Published != 1 || st[1].Failed != 1 || st[1].Published != 0 {
				t.Errorf("Stats = %+v, want primary 1 published, secondary 1 failed", st)
			}
			// The handler hears of it on its own goroutine, once a second
			// at most: a second failure right after is held back.
			select {
			case got := <-reported:
				if !errors.Is(got, transport.ErrUnavailable) || !strings.Contains(got.Error(), "secondary") {
					t.Errorf("error handler saw %v, want an ErrUnavailable naming the secondary", got)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("error handler not called within 10 s")
			}
			_ = tt.Publish(ctxT(t), transport.Message{Channel: "ch", Payload: []byte("y")})
			select {
			case got := <-reported:
				t.Errorf("a second report within the interval: %v", got)
			case <-time.After(50 * time.Millisecond):
			}

			// Ping follows the same policy.
			if err := tt.Ping(ctxT(t)); (err != nil) != c.wantErr {
				t.Errorf("Ping = %v, want error %v", err, c.wantErr)
			}
			b.b.SetDown(false)
			if err := tt.Ping(ctxT(t)); err != nil {
				t.Errorf("Ping after recovery = %v", err)
			}
		})
	}
}

func TestPrimaryFailureFailsCall(t *testing.T) {
	for _, seq := range []bool{false, true} {
		a, b := newMem(t), newMem(t)
		opts := []tee.Option{tee.WithKeepOpen()}
		if seq {
			opts = append(opts, tee.WithSequential())
		}
		tt, err := tee.New(a.t, []transport.Transport{b.t}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		a.b.SetDown(true)
		err = tt.Publish(ctxT(t), transport.Message{Channel: "ch", Payload: []byte("x")})
		if !errors.Is(err, transport.ErrUnavailable) {
			t.Fatalf("sequential=%v: Publish = %v, want ErrUnavailable from the primary", seq, err)
		}
		if err := tt.Ping(ctxT(t)); !errors.Is(err, transport.ErrUnavailable) {
			t.Errorf("Ping = %v, want the primary's ErrUnavailable", err)
		}
		got := len(b.rec.Messages("ch"))
		st := tt.Stats()
		if seq && (got != 0 || st[1].Published != 0) {
			t.Errorf("sequential: the secondary got %d messages (stats %+v), want none after the primary failed", got, st)
		}
		if !seq && (got != 1 || st[1].Published != 1) {
			t.Errorf("concurrent: the secondary got %d messages (stats %+v), want 1", got, st)
		}
		if st[0].Failed != 1 {
			t.Errorf("primary stats = %+v, want 1 failed", st[0])
		}
	}
}

func TestPublishBatchSent(t *testing.T) {
	// The secondary takes 3 of 5 messages.
	for _, c := range []struct {
		policy   tee.SecondaryFailure
		wantSent int // -1: no error
	}{{tee.CountAndContinue, -1}, {tee.FailCall, 3}} {
		a := newMem(t)
		lim := &limited{Transport: memory.New(), limit: 3}
		defer lim.Close()
		tt, _ := tee.New(a.t, []transport.Transport{lim}, tee.WithKeepOpen(), tee.WithSecondaryFailure(c.policy))
		err := tt.PublishBatch(ctxT(t), msgs("ch", 5))
		var be *transport.BatchError
		switch {
		case c.wantSent < 0 && err != nil:
			t.Errorf("%v: PublishBatch = %v, want nil", c.policy, err)
		case c.wantSent >= 0 && (!errors.As(err, &be) || be.Sent != c.wantSent || !errors.Is(err, transport.ErrUnavailable)):
			t.Errorf("%v: PublishBatch = %#v, want a BatchError with Sent %d wrapping ErrUnavailable", c.policy, err, c.wantSent)
		}
		st := tt.Stats()
		if st[0].Published != 5 || st[1].Published != 3 || st[1].Failed != 2 {
			t.Errorf("%v: Stats = %+v, want primary 5, secondary 3 published 2 failed", c.policy, st)
		}
	}

	// The primary takes 2 of 4: Sent is the primary's count.
	lim := &limited{Transport: memory.New(), limit: 2}
	defer lim.Close()
	b := newMem(t)
	tt, _ := tee.New(lim, []transport.Transport{b.t}, tee.WithKeepOpen())
	err := tt.PublishBatch(ctxT(t), msgs("ch", 4))
	var be *transport.BatchError
	if !errors.As(err, &be) || be.Sent != 2 || !errors.Is(err, transport.ErrUnavailable) {
		t.Fatalf("PublishBatch = %#v, want a BatchError with Sent 2 wrapping ErrUnavailable", err)
	}
	if n := len(b.rec.Messages("ch")); n != 4 {
		t.Errorf("secondary got %d messages, want 4", n)
	}
}

func TestMaxPayloadCheckedFirst(t *testing.T) {
	a := newMem(t, memory.WithMaxPayload(0))
	b := newMem(t, memory.WithMaxPayload(100))
	c := newMem(t, memory.WithMaxPayload(50))
	tt, err := tee.New(a.t, []transport.Transport{b.t, c.t}, tee.WithKeepOpen())
	if err != nil {
		t.Fatal(err)
	}
	if got := tt.Capabilities().MaxPayload; got != 50 {
		t.Fatalf("MaxPayload = %d, want 50 (the smallest non-zero)", got)
	}
	err = tt.Publish(ctxT(t), transport.Message{Channel: "ch", Payload: make([]byte, 51)})
	if !errors.Is(err, transport.ErrPayloadTooLarge) {
		t.Fatalf("Publish of 51 bytes = %v, want ErrPayloadTooLarge", err)
	}
	err = tt.PublishBatch(ctxT(t), []transport.Message{{Channel: "ch"}, {Channel: "ch", Payload: make([]byte, 51)}})
	if !errors.Is(err, transport.ErrPayloadTooLarge) || !strings.Contains(err.Error(), "message 1") {
		t.Fatalf("PublishBatch = %v, want ErrPayloadTooLarge naming message 1", err)
	}
	for i, m := range []memTarget{a, b, c} {
		if n := len(m.rec.Messages("")); n != 0 {
			t.Errorf("target %d got %d messages, want none", i, n)
		}
	}
	if _, err := tt.Remove(c.t); err != nil {
		t.Fatal(err)
	}
	if got := tt.Capabilities().MaxPayload; got != 100 {
		t.Errorf("MaxPayload after removing the 50-byte target = %d, want 100", got)
	}
	if err := tt.Publish(ctxT(t), transport.Message{Channel: "ch", Payload: make([]byte, 51)}); err != nil {
		t.Errorf("Publish of 51 bytes after the removal = %v", err)
	}
}

func TestCapabilitiesFromPrimary(t *testing.T) {
	persistent := newMem(t, memory.WithHistory(10))
	plain := newMem(t)
	tt, _ := tee.New(plain.t, []transport.Transport{persistent.t}, tee.WithKeepOpen())
	if tt.Capabilities().Persistent {
		t.Error("Persistent is true, want the primary's false")
	}
	if err := tt.SetPrimary(persistent.t); err != nil {
		t.Fatal(err)
	}
	if !tt.Capabilities().Persistent {
		t.Error("Persistent is false after SetPrimary, want the new primary's true")
	}
	st := tt.Stats()
	if len(st) != 2 || !st[0].Primary {
		t.Errorf("Stats after SetPrimary = %+v", st)
	}
}

func TestSubscribeReadsPrimary(t *testing.T) {
	a, b := newMem(t), newMem(t)
	tt, _ := tee.New(a.t, []transport.Transport{b.t}, tee.WithKeepOpen())
	sub, err := tt.Subscribe(ctxT(t), "ch")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	psub, err := tt.SubscribePattern(ctxT(t), "c*")
	if err != nil {
		t.Fatal(err)
	}
	defer psub.Close()
	// A message only on the secondary's broker must not show up.
	if err := b.b.Connect().Publish(ctxT(t), transport.Message{Channel: "ch", Payload: []byte("secondary only")}); err != nil {
		t.Fatal(err)
	}
	if err := a.b.Connect().Publish(ctxT(t), transport.Message{Channel: "ch", Payload: []byte("primary")}); err != nil {
		t.Fatal(err)
	}
	for _, s := range []transport.Subscription{sub, psub} {
		m, err := s.Next(ctxT(t))
		if err != nil || string(m.Payload) != "primary" {
			t.Errorf("Next = %q, %v; want the primary's message", m.Payload, err)
		}
	}

	hidden, _ := tee.New(noPatterns{a.t}, nil, tee.WithKeepOpen())
	if _, err := hidden.SubscribePattern(ctxT(t), "c*"); err == nil || !strings.Contains(err.Error(), "patterns") {
		t.Errorf("SubscribePattern on a primary without patterns = %v, want an error saying so", err)
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	a := memory.New()
	defer a.Close()
	for _, c := range []struct {
		name    string
		primary transport.Transport
		others  []transport.Transport
		opts    []tee.Option
		want    string
	}{
		{"nil primary", nil, nil, nil, "primary transport is nil"},
		{"nil secondary", a, []transport.Transport{nil}, nil, "secondary transport 0 is nil"},
		{"twice", a, []transport.Transport{a}, nil, "given twice"},
		{"policy", a, nil, []tee.Option{tee.WithSecondaryFailure(7)}, "SecondaryFailure(7)"},
	} {
		tt, err := tee.New(c.primary, c.others, c.opts...)
		if err == nil || tt != nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: New = %v, %v; want an error containing %q", c.name, tt, err, c.want)
		}
	}
}

func TestChangingTargets(t *testing.T) {
	a, b := newMem(t), newMem(t)
	tt, _ := tee.New(a.t, nil, tee.WithKeepOpen())
	if err := tt.Add(nil); err == nil {
		t.Error("Add(nil) succeeded")
	}
	if err := tt.Add(a.t); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("Add of the primary = %v, want an error", err)
	}
	if _, err := tt.Remove(a.t); err == nil || !strings.Contains(err.Error(), "only target") {
		t.Errorf("Remove of the last target = %v, want an error", err)
	}
	if _, err := tt.Remove(b.t); err == nil || !strings.Contains(err.Error(), "not a target") {
		t.Errorf("Remove of a stranger = %v, want an error", err)
	}
	if err := tt.Add(b.t); err != nil {
		t.Fatal(err)
	}
	if err := tt.Publish(ctxT(t), transport.Message{Channel: "ch", Payload: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	st, err := tt.Remove(a.t)
	if err != nil {
		t.Fatal(err)
	}
	if !st.Primary || st.Published != 1 {
		t.Errorf("Remove returned %+v, want the primary's final stats with 1 published", st)
	}
	if got, ok := tt.StatsOf(b.t); !ok || !got.Primary || got.Published != 1 {
		t.Errorf("StatsOf(b) = %+v, %v; want b promoted to primary with 1 published", got, ok)
	}
	if _, ok := tt.StatsOf(a.t); ok {
		t.Error("StatsOf(a) found a removed target")
	}
}

func TestCloseOwnership(t *testing.T) {
	a, b := memory.New(), memory.New()
	tt, _ := tee.New(a, []transport.Transport{b})
	if err := tt.Close(); err != nil {
		t.Fatal(err)
	}
	if err := tt.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	for i, tr := range []transport.Transport{a, b} {
		if err := tr.Ping(ctxT(t)); !errors.Is(err, transport.ErrClosed) {
			t.Errorf("target %d Ping after tee Close = %v, want ErrClosed", i, err)
		}
	}
	if err := tt.Publish(ctxT(t), transport.Message{Channel: "ch"}); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
	if err := tt.PublishBatch(ctxT(t), nil); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("PublishBatch after Close = %v, want ErrClosed", err)
	}
	if _, err := tt.Subscribe(ctxT(t), "ch"); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Subscribe after Close = %v, want ErrClosed", err)
	}
	if err := tt.Add(memory.New()); !errors.Is(err, transport.ErrClosed) {
		t.Errorf("Add after Close = %v, want ErrClosed", err)
	}

	c, d := memory.New(), memory.New()
	defer c.Close()
	defer d.Close()
	kept, _ := tee.New(c, []transport.Transport{d}, tee.WithKeepOpen())
	kept.Close()
	for i, tr := range []transport.Transport{c, d} {
		if err := tr.Ping(ctxT(t)); err != nil {
			t.Errorf("WithKeepOpen: target %d Ping after tee Close = %v, want nil", i, err)
		}
	}
}
