// Package interleave times two ways of doing the same call side by side
// in one benchmark, in alternating blocks, so that both see the same
// machine load.
package interleave

import (
	"slices"
	"testing"
	"time"
)

// Blocks runs call(0) and call(1) block times each per benchmark op, in
// alternating blocks (which goes first alternates too). It reports each
// side's ns per call as "<names[k]>-ns/call" and the median over the ops
// of the ratio side 1 ÷ side 0 as "median-ratio": a block the scheduler
// preempted skews one op, not the median. It allocates nothing per op
// beyond what call does. A call's error stops the benchmark.
func Blocks(b *testing.B, block int, names [2]string, call func(side int) error) {
	b.Helper()
	var total [2]time.Duration
	ratios := make([]float64, 0, 1<<20) // made before the timer starts
	for i := 0; b.Loop(); i++ {
		var spent [2]time.Duration
		for j := range 2 {
			k := (i + j) % 2
			start := time.Now()
			for range block {
				if err := call(k); err != nil {
					b.Fatal(err)
				}
			}
			spent[k] = time.Since(start)
			total[k] += spent[k]
		}
		ratios = append(ratios, float64(spent[1])/float64(spent[0]))
	}
	slices.Sort(ratios)
	calls := float64(b.N * block)
	for k, name := range names {
		b.ReportMetric(float64(total[k].Nanoseconds())/calls, name+"-ns/call")
	}
	b.ReportMetric(ratios[len(ratios)/2], "median-ratio")
}
