package eventpub_test

import (
	"context"
	"testing"

	"github.com/eventpub/eventpub"
	"github.com/eventpub/eventpub/internal/interleave"
	"github.com/eventpub/eventpub/memory"
	"github.com/eventpub/eventpub/observe"
)

// observed returns a Publisher on a memory transport, with the Counters
// observer when counters is set, and that observer.
func observed(tb testing.TB, counters bool) (*eventpub.Publisher, *observe.Counters) {
	var opts []eventpub.Option
	var c *observe.Counters
	if counters {
		c = new(observe.Counters)
		opts = append(opts, eventpub.WithObserver(c))
	}
	pub := eventpub.New(memory.New(), opts...)
	tb.Cleanup(func() { _ = pub.Close(context.Background()) })
	return pub, c
}

// TestObserverAddsNoAllocation: PublishEvent allocates as much with the
// Counters observer as with none, and the observer counted every call.
func TestObserverAddsNoAllocation(t *testing.T) {
	data := committed()
	ctx := context.Background()
	none, _ := observed(t, false)
	withC, c := observed(t, true)
	run := func(p *eventpub.Publisher) float64 {
		return testing.AllocsPerRun(200, func() {
			if err := p.PublishEvent(ctx, "documentation_committed", data); err != nil {
				t.Fatal(err)
			}
		})
	}
	a0, a1 := run(none), run(withC)
	if a0 != a1 {
		t.Fatalf("allocations per PublishEvent: %v with no observer, %v with Counters", a0, a1)
	}
	if s := c.Snapshot(); s.Accepted != 201 || s.Published != 201 {
		t.Fatalf("Counters observer saw %+v, want 201 accepted and published", s)
	}
}

// BenchmarkPublishEventObserver is PublishEvent on a memory transport with
// no observer and with the Counters observer, side by side (-benchmem).
func BenchmarkPublishEventObserver(b *testing.B) {
	data := committed()
	for _, c := range []struct {
		name     string
		counters bool
	}{{"none", false}, {"counters", true}} {
		b.Run(c.name, func(b *testing.B) {
			pub, _ := observed(b, c.counters)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if err := pub.PublishEvent(ctx, "documentation_committed", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPublishEventObserverInterleaved times PublishEvent with no
// observer and with the Counters observer in alternating blocks of 64
// calls (which goes first alternates too), so both see the same machine
// load. An op is one block of each. It reports each one's ns per call and
// the median over the ops of the ratio counters/none: a block the
// scheduler preempted skews one op, not the median. Allocations are
// compared by BenchmarkPublishEventObserver and TestObserverAddsNoAllocation.
func BenchmarkPublishEventObserverInterleaved(b *testing.B) {
	data := committed()
	ctx := context.Background()
	var pubs [2]*eventpub.Publisher
	pubs[0], _ = observed(b, false)
	pubs[1], _ = observed(b, true)
	interleave.Blocks(b, 64, [2]string{"none", "counters"}, func(k int) error {
		return pubs[k].PublishEvent(ctx, "documentation_committed", data)
	})
}
