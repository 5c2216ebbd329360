package main

import (
	"fmt"
	"math"
	"os"
	"runtime"
	"time"
)

// sample is one round's figure for one side.
type sample struct {
	value float64
	extra string
	// msgs is how many messages the round handled; a row that measures
	// CPU divides the client's CPU time by it. 0: not counted.
	msgs float64
	// cpu is the client's CPU time when the run measured it itself (a
	// child process); 0: the process's own CPU time over the round is
	// taken.
	cpu time.Duration
}

// contender is one side of a row and how to run one round of it.
type contender struct {
	name string
	run  func() (sample, error)
}

// spec describes a row: setup opens what the sides need and returns them,
// eventpub first, with a cleanup.
type spec struct {
	what, note string
	short      string // label on the chart; what when empty
	unit       Unit
	needs      string // "redis", "nats" or "" (no broker)
	rounds     int    // 0: the -rounds flag
	// cpu: also report the client's CPU time per message for each side
	// (its runs set sample.msgs).
	cpu   bool
	setup func(e *env) ([]contender, func(), error)
}

// interleave runs every side once per round, rotating which goes first, so
// all sides see the same machine load; a warm-up round is run and dropped.
// With cpu it also records each round's client CPU time per message.
func interleave(sides []contender, rounds int, cpu bool) ([]Side, error) {
	out := make([]Side, len(sides))
	extras := make([][]string, len(sides))
	for i, c := range sides {
		out[i].Name = c.name
	}
	for r := -1; r < rounds; r++ {
		for _, i := range order(max(r, 0), len(sides)) {
			run := sides[i].run
			if cpu {
				run = withCPU(run)
			}
			s, err := run()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sides[i].name, err)
			}
			if r >= 0 {
				out[i].Samples = append(out[i].Samples, s.value)
				extras[i] = append(extras[i], s.extra)
				if c := cpuPerMsg(s); cpu && !math.IsNaN(c) {
					out[i].CPU = append(out[i].CPU, c)
				}
			}
		}
	}
	for i := range out {
		out[i].Extra = extraAtMedian(out[i].Samples, extras[i])
	}
	return out, nil
}

// withCPU runs one round of a side and fills in the CPU the whole process
// used over it, unless the run measured its own (a child process). The
// garbage of the rounds before is collected first, so that no side pays
// for another's. Nothing else works in the process during a round: the
// other sides' connections are idle, their goroutines parked (an idle
// process with every row's connections open used 0.1 to 2 ms of CPU in
// 300 ms, the runtime's background work included; a round takes 30 to
// 400 ms of CPU at -scale 0.3).
func withCPU(run func() (sample, error)) func() (sample, error) {
	return func() (sample, error) {
		runtime.GC()
		before, ok := processCPU()
		s, err := run()
		after, ok2 := processCPU()
		if err == nil && s.cpu == 0 && ok && ok2 {
			s.cpu = after - before
		}
		return s, err
	}
}

// cpuPerMsg is the client's CPU time per message of a round in
// nanoseconds; NaN when the round did not measure or count.
func cpuPerMsg(s sample) float64 {
	if s.cpu <= 0 || s.msgs <= 0 {
		return math.NaN()
	}
	return float64(s.cpu.Nanoseconds()) / s.msgs
}

// order is the order the sides run in a round: rotated by one each round,
// so each side goes first equally often.
func order(round, n int) []int {
	o := make([]int, n)
	for k := range o {
		o[k] = (k + round) % n
	}
	return o
}

// extraAtMedian returns the extra text of the round closest to the median.
func extraAtMedian(xs []float64, extras []string) string {
	m := median(xs)
	best, bi := -1.0, -1
	for i, x := range xs {
		d := x - m
		if d < 0 {
			d = -d
		}
		if bi < 0 || d < best {
			best, bi = d, i
		}
	}
	if bi < 0 {
		return ""
	}
	return extras[bi]
}

// runSpec runs one row, or says why it was skipped.
func runSpec(e *env, s spec) Row {
	row := Row{What: s.what, Short: s.short, Note: s.note, Unit: s.unit}
	if reason := e.unavailable(s.needs); reason != "" {
		row.Skipped = reason
		return row
	}
	start := time.Now()
	sides, cleanup, err := s.setup(e)
	if err != nil {
		row.Skipped = err.Error()
		return row
	}
	defer cleanup()
	rounds := s.rounds
	if rounds == 0 {
		rounds = e.rounds
	}
	res, err := interleave(sides, rounds, s.cpu)
	if err != nil {
		row.Skipped = "failed: " + err.Error()
		return row
	}
	row.Eventpub, row.Peers = res[0], res[1:]
	fmt.Fprintf(os.Stderr, "bench: %s done in %s\n", s.what, time.Since(start).Round(time.Millisecond))
	return row
}
