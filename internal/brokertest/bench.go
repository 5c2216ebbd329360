package brokertest

import (
	"testing"
	"time"
)

// Interleave runs ours and theirs alternately, block operations at a time,
// until each has run b.N, and reports each side's ns/op ("eventpub-ns/op"
// and name+"-ns/op") and the speedup (theirs' time over ours). Alternating
// makes both sides share the same machine load, which a shared 2-core
// machine needs for a fair ratio; two sub-benchmarks run one after the
// other do not.
func Interleave(b *testing.B, block int, name string, ours, theirs func(n int)) {
	b.Helper()
	ours(block) // warm both up: connections, buffers
	theirs(block)
	var tOurs, tTheirs time.Duration
	b.ResetTimer()
	for done, i := 0, 0; done < b.N; done, i = done+block, i+1 {
		n := min(block, b.N-done)
		run := func(f func(int), d *time.Duration) {
			start := time.Now()
			f(n)
			*d += time.Since(start)
		}
		if i%2 == 0 {
			run(ours, &tOurs)
			run(theirs, &tTheirs)
		} else {
			run(theirs, &tTheirs)
			run(ours, &tOurs)
		}
	}
	b.ReportMetric(float64(tOurs.Nanoseconds())/float64(b.N), "eventpub-ns/op")
	b.ReportMetric(float64(tTheirs.Nanoseconds())/float64(b.N), name+"-ns/op")
	b.ReportMetric(float64(tTheirs)/float64(tOurs), "speedup")
}
