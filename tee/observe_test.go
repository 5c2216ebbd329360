package tee_test

import (
	"context"
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
