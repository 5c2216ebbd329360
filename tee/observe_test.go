package tee_test

import (
	"context"
	"errors"
	"testing"

	"github.com/eventpub/eventpub/observe"
	"github.com/eventpub/eventpub/tee"
	"github.com/eventpub/eventpub/transport"
)

// systemCounts counts published and failed messages per system name.
type systemCounts struct {
	observe.Nop
	published, failed map[string]int
}

func (s *systemCounts) Published(o observe.Outcome) { s.published[o.System+"/"+o.Channel] += o.Count }
func (s *systemCounts) Failed(o observe.Outcome)    { s.failed[o.System+"/"+o.Channel] += o.Count }

func TestObserverHearsEachTarget(t *testing.T) {
	a, b := newMem(t), newMem(t)
	obs := &systemCounts{published: map[string]int{}, failed: map[string]int{}}
	tt, err := tee.New(a.t, []transport.Transport{b.t}, tee.WithKeepOpen(), tee.WithObserver(obs), tee.WithSequential())
	if err != nil {
		t.Fatal(err)
	}
	defer tt.Close()
	ctx := context.Background()
	if err := tt.Publish(ctx, transport.Message{Channel: "c", Payload: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	b.b.SetDown(true)
	if err := tt.Publish(ctx, transport.Message{Channel: "c", Payload: []byte("2")}); err != nil {
		t.Fatal(err)
	}
	// one call, synchronous: the observer has heard it all
	if obs.published["memory/c"] != 3 || obs.failed["memory/c"] != 1 {
		t.Fatalf("observer heard published %v failed %v; want 3 published (2 primary, 1 secondary) and 1 failed on memory/c",
			obs.published, obs.failed)
	}
	st := tt.Stats()
	if st[0].Published != 2 || st[1].Published != 1 || st[1].Failed != 1 {
		t.Fatalf("Stats = %+v", st)
	}
}

// TestBatchPassesOnPerMessageResults: a message a target refuses in the
// middle of a batch is named in the tee's BatchError.Results, so an async
// queue above does not send the messages around it again.
func TestBatchPassesOnPerMessageResults(t *testing.T) {
	for _, policy := range []tee.SecondaryFailure{tee.CountAndContinue, tee.FailCall} {
		a, b := newMem(t), newMem(t)
		tt, err := tee.New(a.t, []transport.Transport{b.t}, tee.WithKeepOpen(), tee.WithSecondaryFailure(policy))
		if err != nil {
			t.Fatal(err)
		}
		msgs := []transport.Message{{Channel: "c", Payload: []byte("0")}, {Channel: "bad\xff", Payload: []byte("1")}, {Channel: "c", Payload: []byte("2")}}
		err = tt.PublishBatch(context.Background(), msgs)
		var be *transport.BatchError
		if !errors.As(err, &be) || len(be.Results) != 3 || be.Sent != 1 ||
			be.Results[0] != nil || !errors.Is(be.Results[1], transport.ErrInvalidChannel) || be.Results[2] != nil {
			t.Fatalf("%v: PublishBatch = %#v, want Results naming message 1 alone", policy, err)
		}
		st := tt.Stats()
		if st[0].Published != 2 || st[0].Failed != 1 || st[1].Published != 2 || st[1].Failed != 1 {
			t.Fatalf("%v: Stats = %+v, want 2 published and 1 failed on each", policy, st)
		}
		_ = tt.Close()
	}
}
