package main

import (
	"image/png"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{7}, 7},
	} {
		in := slices.Clone(c.in)
		if got := median(in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
		if !slices.Equal(in, c.in) {
			t.Errorf("median reordered its input: %v", in)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil) is not NaN")
	}
}

func TestQuantile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	for q, want := range map[float64]float64{0: 1, 0.25: 2, 0.5: 3, 0.75: 4, 1: 5, 0.125: 1.5} {
		if got := quantile(xs, q); got != want {
			t.Errorf("quantile(%v) = %v, want %v", q, got, want)
		}
	}
}

func TestRatioTurnsSoAboveOneIsBetter(t *testing.T) {
	if got := ratio(msgPerSec, 300, 100); got != 3 {
		t.Errorf("throughput ratio = %v, want 3", got)
	}
	if got := ratio(nsPerOp, 100, 300); got != 3 {
		t.Errorf("time ratio = %v, want 3 (eventpub takes a third of the time)", got)
	}
	if got := ratio(bytesPer, 600, 200); math.Abs(got-1.0/3) > 1e-12 {
		t.Errorf("memory ratio = %v, want 1/3 (eventpub uses three times the memory)", got)
	}
	if !math.IsNaN(ratio(msgPerSec, 0, 1)) || !math.IsNaN(ratio(msgPerSec, 1, math.NaN())) {
		t.Error("a ratio over a zero or missing figure is not NaN")
	}
}

func TestOrderRotates(t *testing.T) {
	first := map[int]int{}
	for r := range 6 {
		o := order(r, 3)
		s := slices.Sorted(slices.Values(o))
		if !slices.Equal(s, []int{0, 1, 2}) {
			t.Fatalf("round %d runs %v, not each side once", r, o)
		}
		first[o[0]]++
	}
	for side := range 3 {
		if first[side] != 2 {
			t.Errorf("side %d went first %d times in 6 rounds, want 2", side, first[side])
		}
	}
}

func TestRenderTableKeepsLossesAndSkips(t *testing.T) {
	rows := []Row{{
		What:     "NATS core Publish",
		Unit:     msgPerSec,
		Eventpub: Side{Name: "eventpub", Samples: []float64{2.3e6, 2.4e6, 2.2e6}},
		Peers:    []Side{{Name: "nats.go Publish", Samples: []float64{3e6, 3e6, 3e6}}},
	}, {
		What:     "encode",
		Unit:     nsPerOp,
		Eventpub: Side{Name: "eventpub", Samples: []float64{400}, Extra: "0 allocs"},
		Peers:    []Side{{Name: "encoding/json", Samples: []float64{4000}}, {Name: "a|b", Samples: []float64{800}}},
	}, {
		What:    "JetStream",
		Unit:    msgPerSec,
		Skipped: "NATS does not answer: connection refused",
	}}
	got := renderTable(rows)
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 5 {
		t.Fatalf("want header, rule and 3 rows, got:\n%s", got)
	}
	for _, want := range []string{
		"2.30M msg/s ±2%",         // median, half the interquartile range
		"**0.77×** (1.30× worse)", // a loss in bold, inverted too
		"400 ns, 0 allocs",
		"10.00× vs encoding/json",
		`a\|b`, // pipes escaped
		"skipped: NATS does not answer: connection refused",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("table lacks %q:\n%s", want, got)
		}
	}
	for i, l := range lines {
		if n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|"); n != 5 {
			t.Errorf("line %d has %d cell borders, want 5: %s", i, n, l)
		}
	}
}

func TestBarsSkipRowsThatDidNotRun(t *testing.T) {
	rows := []Row{
		{What: "a", Short: "A", Unit: msgPerSec, Eventpub: Side{Samples: []float64{2}}, Peers: []Side{{Name: "p", Samples: []float64{1}}}},
		{What: "b", Skipped: "down"},
		{What: "c", Unit: bytesPer, Eventpub: Side{Samples: []float64{4}}, Peers: []Side{{Name: "x", Samples: []float64{2}}, {Name: "y", Samples: []float64{8}}}},
	}
	got := bars(rows)
	want := []bar{{"A", 2}, {"c vs x", 0.5}, {"c vs y", 2}}
	if !slices.Equal(got, want) {
		t.Errorf("bars = %v, want %v", got, want)
	}
}

func TestWriteChartIsAPNG(t *testing.T) {
	rows := []Row{{What: "a", Unit: msgPerSec, Eventpub: Side{Samples: []float64{3}}, Peers: []Side{{Name: "p", Samples: []float64{1}}}},
		{What: "b", Unit: msgPerSec, Eventpub: Side{Samples: []float64{1}}, Peers: []Side{{Name: "p", Samples: []float64{2}}}}}
	path := filepath.Join(t.TempDir(), "c.png")
	if err := writeChart(path, "test", rows); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 400 || b.Dy() < 100 {
		t.Errorf("chart is %v, too small to read", b)
	}
	if err := writeChart(path, "test", []Row{{What: "x", Skipped: "down"}}); err == nil {
		t.Error("a chart of no rows that ran did not fail")
	}
}

func TestReplaceBetweenKeepsTheRest(t *testing.T) {
	doc := "# x\n\n" + readmeStart + "\nold\n" + readmeEnd + "\n\nafter\n"
	got, err := replaceBetween(doc, "new\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# x\n\n" + readmeStart + "\nnew\n" + readmeEnd + "\n\nafter\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if _, err := replaceBetween("no markers", "x"); err == nil {
		t.Error("a README without markers was rewritten")
	}
}

// TestSpecsRunEveryRowOnce: the page's order picks rows by position, so a
// row added to a driver's list must not push another one out.
func TestSpecsRunEveryRowOnce(t *testing.T) {
	want := map[string]int{}
	for _, list := range [][]spec{redisSpecs(), natsSpecs(), localSpecs()} {
		for _, s := range list {
			want[s.what]++
		}
	}
	got := map[string]int{}
	for _, s := range specs() {
		got[s.what]++
	}
	for what, n := range want {
		if got[what] != n {
			t.Errorf("row %q runs %d times, want %d", what, got[what], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("specs() has %d distinct rows, the lists %d", len(got), len(want))
	}
}
