package main

import (
	"fmt"
	"os"
	"time"
)

// sample is one round's figure for one side.
type sample struct {
	value float64
	extra string
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
	setup      func(e *env) ([]contender, func(), error)
}

// interleave runs every side once per round, rotating which goes first, so
// all sides see the same machine load; a warm-up round is run and dropped.
func interleave(sides []contender, rounds int) ([]Side, error) {
	out := make([]Side, len(sides))
	extras := make([][]string, len(sides))
	for i, c := range sides {
		out[i].Name = c.name
	}
	for r := -1; r < rounds; r++ {
		for _, i := range order(max(r, 0), len(sides)) {
			s, err := sides[i].run()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", sides[i].name, err)
			}
			if r >= 0 {
				out[i].Samples = append(out[i].Samples, s.value)
				extras[i] = append(extras[i], s.extra)
			}
		}
	}
	for i := range out {
		out[i].Extra = extraAtMedian(out[i].Samples, extras[i])
	}
	return out, nil
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
	res, err := interleave(sides, rounds)
	if err != nil {
		row.Skipped = "failed: " + err.Error()
		return row
	}
	row.Eventpub, row.Peers = res[0], res[1:]
	fmt.Fprintf(os.Stderr, "bench: %s done in %s\n", s.what, time.Since(start).Round(time.Millisecond))
	return row
}
