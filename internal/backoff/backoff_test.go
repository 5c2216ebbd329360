package backoff

import (
	"testing"
	"time"
)

func TestStepsDoubleAndCap(t *testing.T) {
	for _, j := range []Jitter{Equal, Full} {
		b := Backoff{Min: 10 * time.Millisecond, Max: 80 * time.Millisecond, Jitter: j}
		want := []time.Duration{10, 20, 40, 80, 80}
		for i, w := range want {
			w *= time.Millisecond
			d := b.Next()
			if b.Step() != w {
				t.Fatalf("jitter %d, try %d: step %v, want %v", j, i, b.Step(), w)
			}
			lo := w / 2
			if j == Full {
				lo = 0
			}
			if d < lo || d > w {
				t.Fatalf("jitter %d, try %d: wait %v outside [%v, %v]", j, i, d, lo, w)
			}
		}
		b.Reset()
		if b.Next(); b.Step() != 10*time.Millisecond {
			t.Fatalf("after Reset the step is %v, want 10ms", b.Step())
		}
	}
}

func TestJitterSpreads(t *testing.T) {
	seen := map[time.Duration]bool{}
	for range 50 {
		b := New(time.Second, time.Second)
		seen[b.Next()] = true
	}
	if len(seen) < 10 {
		t.Fatalf("50 waits took only %d distinct values: no jitter", len(seen))
	}
}

func TestZeroValueWaitsNothing(t *testing.T) {
	var b Backoff
	if d := b.Next(); d != 0 {
		t.Fatalf("zero Backoff waits %v", d)
	}
}
