package sendq

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestFIFOMatchesASlice: random pushes at both ends, pops and bulk pops, across
// segment boundaries, keep the order a plain slice keeps.
func TestFIFOMatchesASlice(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var f fifo
	var model []string
	next := 0
	maxLen := 0
	for step := range 40000 {
		pushes := 6 // grow over several segments, then shrink
		if step >= 20000 {
			pushes = 4
		}
		switch op := r.IntN(10); {
		case op < pushes || len(model) == 0:
			e := entry{channel: strconv.Itoa(next)}
			next++
			if op%2 == 0 {
				f.pushBack(e)
				model = append(model, e.channel)
			} else {
				f.pushFront(e)
				model = append([]string{e.channel}, model...)
			}
		case op == 9:
			// a short bulk pop, sometimes longer than what is held
			k := r.IntN(4)
			got := f.popFrontTo([]entry{{channel: "kept"}}, k)
			want := min(k, len(model))
			if len(got) != 1+want || got[0].channel != "kept" {
				t.Fatalf("step %d: popFrontTo(%d) of %d gave %d entries after the one kept", step, k, len(model), len(got)-1)
			}
			for i, e := range got[1:] {
				if e.channel != model[i] {
					t.Fatalf("step %d: popFrontTo entry %d = %s, want %s", step, i, e.channel, model[i])
				}
			}
			model = model[want:]
		case len(model) > 0:
			if got := f.popFront().channel; got != model[0] {
				t.Fatalf("step %d: popFront = %s, want %s", step, got, model[0])
			}
			model = model[1:]
		}
		maxLen = max(maxLen, len(model))
		if f.n != len(model) {
			t.Fatalf("step %d: n = %d, want %d", step, f.n, len(model))
		}
		if want := (f.head + f.n + segLen - 1) / segLen; len(f.segs) != want {
			t.Fatalf("step %d: %d segments for head %d and %d entries, want %d", step, len(f.segs), f.head, f.n, want)
		}
	}
	if maxLen < 4*segLen {
		t.Fatalf("the FIFO held at most %d entries, too few to span segments", maxLen)
	}
	// Drain by long bulk pops, which cross segments, then one at a time.
	for len(model) > segLen {
		got := f.popFrontTo(nil, segLen+segLen/3)
		for i, e := range got {
			if e.channel != model[i] {
				t.Fatalf("draining: popFrontTo entry %d = %s, want %s", i, e.channel, model[i])
			}
		}
		model = model[len(got):]
		if f.n != len(model) {
			t.Fatalf("draining: n = %d, want %d", f.n, len(model))
		}
	}
	for len(model) > 0 {
		if got := f.popFront().channel; got != model[0] {
			t.Fatalf("draining: popFront = %s, want %s", got, model[0])
		}
		model = model[1:]
	}
	if len(f.segs) != 0 {
		t.Fatalf("an empty FIFO keeps %d segments", len(f.segs))
	}
}

// TestPreferredBatchSize: a preferred size above the default is kept to
// an eighth of the capacity, never below the default; one below the
// default is taken as it is.
func TestPreferredBatchSize(t *testing.T) {
	for _, c := range []struct{ p, capacity, want int }{
		{7, 1000, 7},
		{1024, 2000, DefaultMaxBatch}, // an eighth is 250
		{1024, 4000, 500},
		{1024, 20000, 1024},
		{DefaultMaxBatch + 1, 100, DefaultMaxBatch},
	} {
		if got := preferredBatch(c.p, c.capacity); got != c.want {
			t.Errorf("preferredBatch(%d, %d) = %d, want %d", c.p, c.capacity, got, c.want)
		}
	}
}
