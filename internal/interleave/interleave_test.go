package interleave_test

import (
	"testing"

	"go.uber.org/goleak"

	"github.com/eventpub/eventpub/internal/interleave"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Blocks calls each side block times per op and reports both sides and
// the median ratio.
func TestBlocksCallsBothSidesAndReports(t *testing.T) {
	var calls [2]int
	r := testing.Benchmark(func(b *testing.B) {
		calls = [2]int{}
		interleave.Blocks(b, 4, [2]string{"a", "b"}, func(k int) error { calls[k]++; return nil })
	})
	if r.N == 0 || calls[0] != 4*r.N || calls[1] != 4*r.N {
		t.Fatalf("%d ops made calls %v, want %d on each side", r.N, calls, 4*r.N)
	}
	for _, m := range []string{"a-ns/call", "b-ns/call", "median-ratio"} {
		if _, ok := r.Extra[m]; !ok {
			t.Errorf("metric %q not reported: %v", m, r.Extra)
		}
	}
}
