package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Unit says what a side's figure measures and which way is better.
type Unit struct {
	Name         string // "msg/s", "ns/op", "B/msg"
	HigherBetter bool
}

var (
	msgPerSec = Unit{Name: "msg/s", HigherBetter: true}
	nsPerOp   = Unit{Name: "ns/op"}
	bytesPer  = Unit{Name: "B/msg"}
)

// Side is one contender in a row: eventpub, or a peer.
type Side struct {
	Name    string
	Samples []float64 // one per round
	// CPU is the client's CPU time per message in ns, one per round; empty
	// when the row does not measure it.
	CPU   []float64
	Extra string // e.g. "0 allocs" (from the median round)
}

// Median of the side's samples (NaN when there are none).
func (s Side) Median() float64 { return median(s.Samples) }

// Row is one comparison: eventpub against one or more peers.
type Row struct {
	What     string
	Short    string // chart label; What when empty
	Unit     Unit
	Eventpub Side
	Peers    []Side
	Skipped  string // why the row was not run; empty when it ran
	Note     string
}

// median returns the middle value (mean of the two middle ones for an even
// count) without changing xs; NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio is how many times better eventpub is than the peer: above 1
// eventpub wins, below 1 it loses, whichever way the unit counts.
func ratio(u Unit, eventpub, peer float64) float64 {
	if eventpub <= 0 || peer <= 0 || math.IsNaN(eventpub) || math.IsNaN(peer) {
		return math.NaN()
	}
	if u.HigherBetter {
		return eventpub / peer
	}
	return peer / eventpub
}

// formatRatio writes a ratio as "8.1×", and a loss also as "(1.8× worse)"
// so a reader need not invert it.
func formatRatio(r float64) string {
	switch {
	case math.IsNaN(r):
		return "–"
	case r >= 0.995:
		return fmt.Sprintf("%.2f×", r)
	default:
		return fmt.Sprintf("**%.2f×** (%.2f× worse)", r, 1/r)
	}
}

// formatValue writes a figure with its unit in a short human form.
func formatValue(u Unit, v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	switch u.Name {
	case "msg/s":
		switch {
		case v >= 1e6:
			return fmt.Sprintf("%.2fM msg/s", v/1e6)
		case v >= 1e3:
			return fmt.Sprintf("%.1fk msg/s", v/1e3)
		}
		return fmt.Sprintf("%.0f msg/s", v)
	case "ns/op":
		if v >= 1000 {
			return fmt.Sprintf("%.2f µs", v/1000)
		}
		return fmt.Sprintf("%.0f ns", v)
	}
	return fmt.Sprintf("%.0f %s", v, u.Name)
}

// spread is half the interquartile range of the samples in percent of
// their median: a plain word on how noisy the row was, which one outlier
// round does not dominate.
func spread(xs []float64) float64 {
	m := median(xs)
	if len(xs) < 2 || m == 0 || math.IsNaN(m) {
		return 0
	}
	return (quantile(xs, 0.75) - quantile(xs, 0.25)) / 2 / m * 100
}

// quantile interpolates linearly between the sorted samples.
func quantile(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := int(pos)
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (pos-float64(lo))*(s[lo+1]-s[lo])
}

// formatCPU writes a client CPU time per message, given in ns, as
// "0.61 µs CPU/msg".
func formatCPU(ns float64) string {
	us := ns / 1000
	switch {
	case math.IsNaN(us):
		return "–"
	case us >= 100:
		return fmt.Sprintf("%.0f µs CPU/msg", us)
	case us >= 10:
		return fmt.Sprintf("%.1f µs CPU/msg", us)
	}
	return fmt.Sprintf("%.2f µs CPU/msg", us)
}

func sideCell(u Unit, s Side) string {
	c := formatValue(u, s.Median())
	if sp := spread(s.Samples); sp > 0 {
		c += fmt.Sprintf(" ±%.0f%%", sp)
	}
	if len(s.CPU) > 0 {
		c += ", " + formatCPU(median(s.CPU))
		if sp := spread(s.CPU); sp > 0 {
			c += fmt.Sprintf(" ±%.0f%%", sp)
		}
	}
	if s.Extra != "" {
		c += ", " + s.Extra
	}
	return c
}

// renderTable writes the rows as a Markdown table: eventpub's median, each
// peer's median, and the ratio against each peer.
func renderTable(rows []Row) string {
	var b strings.Builder
	b.WriteString("| what | eventpub | peer | ratio (above 1: eventpub better) |\n|---|---|---|---|\n")
	for _, r := range rows {
		if r.Skipped != "" {
			fmt.Fprintf(&b, "| %s | skipped | skipped | skipped: %s |\n", r.What, escape(r.Skipped))
			continue
		}
		var peers, ratios []string
		for _, p := range r.Peers {
			peers = append(peers, p.Name+" "+sideCell(r.Unit, p))
			ratios = append(ratios, formatRatio(ratio(r.Unit, r.Eventpub.Median(), p.Median()))+" vs "+p.Name)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", escape(r.What), escape(sideCell(r.Unit, r.Eventpub)),
			escape(strings.Join(peers, "; ")), escape(strings.Join(ratios, "; ")))
	}
	return b.String()
}

func escape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
