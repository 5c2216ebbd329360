package main

import (
	"fmt"
	"math"
	"os"
	"strings"
)

// The README's Performance section holds the summary between these
// markers; -readme rewrites what is between them and nothing else.
const (
	readmeStart = "<!-- bench:start (written by bench/, do not edit by hand) -->"
	readmeEnd   = "<!-- bench:end -->"
)

// renderSummary is the README's short table: one line per ratio, with the
// date and machine so a reader knows where the figures come from.
func renderSummary(m machine, rows []Row) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Measured by `bench/` on %s (commit %s, %d CPUs, load average %s at the start; %d interleaved rounds, medians). "+
		"Above 1× eventpub is faster or smaller; the full table, the machine and how to re-run it are in "+
		"[docs/BENCHMARKS.md](docs/BENCHMARKS.md).\n\n", m.Date, m.Commit, m.CPUs, m.LoadStart, m.Rounds)
	b.WriteString("| comparison | eventpub | peer | ratio |\n|---|---|---|---|\n")
	for _, r := range rows {
		if r.Skipped != "" {
			fmt.Fprintf(&b, "| %s | skipped | | %s |\n", escape(r.What), escape(r.Skipped))
			continue
		}
		for _, p := range r.Peers {
			x := ratio(r.Unit, r.Eventpub.Median(), p.Median())
			cell := "–"
			if !math.IsNaN(x) {
				cell = fmt.Sprintf("%.2f×", x)
				if x < 0.995 {
					cell = "**" + cell + "**"
				}
			}
			ep := formatValue(r.Unit, r.Eventpub.Median())
			pp := p.Name + " " + formatValue(r.Unit, p.Median())
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", escape(r.What), escape(ep), escape(pp), cell)
		}
	}
	return b.String()
}

// replaceBetween puts body between the markers in doc.
func replaceBetween(doc, body string) (string, error) {
	i := strings.Index(doc, readmeStart)
	j := strings.Index(doc, readmeEnd)
	if i < 0 || j < i {
		return "", fmt.Errorf("the README has no %q … %q markers", readmeStart, readmeEnd)
	}
	return doc[:i+len(readmeStart)] + "\n" + body + doc[j:], nil
}

// updateReadme rewrites the summary in the README at path.
func updateReadme(path string, m machine, rows []Row) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc, err := replaceBetween(string(b), renderSummary(m, rows))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}
