package main

import (
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
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

func TestFormatCPU(t *testing.T) {
	for ns, want := range map[float64]string{
		610:        "0.61 µs CPU/msg",
		3670:       "3.67 µs CPU/msg",
		30400:      "30.4 µs CPU/msg",
		123456:     "123 µs CPU/msg",
		math.NaN(): "–",
	} {
		if got := formatCPU(ns); got != want {
			t.Errorf("formatCPU(%v) = %q, want %q", ns, got, want)
		}
	}
}

func TestSideCellShowsCPUOnlyWhenMeasured(t *testing.T) {
	s := Side{Samples: []float64{1.0e6, 1.05e6, 1.1e6}, CPU: []float64{600, 610, 620}, Extra: "x"}
	if got, want := sideCell(msgPerSec, s), "1.05M msg/s ±2%, 0.61 µs CPU/msg ±1%, x"; got != want {
		t.Errorf("sideCell = %q, want %q", got, want)
	}
	s.CPU = nil
	if got := sideCell(msgPerSec, s); strings.Contains(got, "CPU") {
		t.Errorf("a side without CPU samples shows %q", got)
	}
}

// TestInterleaveCPU: a row that measures CPU takes a child's own figure
// when the run gives one, the process's otherwise, per message, and leaves
// rows that do not measure it alone.
func TestInterleaveCPU(t *testing.T) {
	burn := func() (sample, error) {
		x := 1.0
		for i := range 20_000_000 {
			x += float64(i) * 1e-9
		}
		return sample{value: x, msgs: 1000}, nil
	}
	child := func() (sample, error) { return sample{value: 1, msgs: 4, cpu: 2 * time.Millisecond}, nil }
	uncounted := func() (sample, error) { return sample{value: 1}, nil }
	sides, err := interleave([]contender{{"burn", burn}, {"child", child}, {"uncounted", uncounted}}, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := processCPU(); ok {
		if got := sides[0].CPU; len(got) != 3 || median(got) <= 0 || median(got) > 1e9 {
			t.Errorf("in-process CPU per message = %v, want 3 rounds of some ns up to 1 s", got)
		}
	}
	if got := sides[1].CPU; !slices.Equal(got, []float64{5e5, 5e5, 5e5}) {
		t.Errorf("child CPU per message = %v, want 2 ms / 4 = 500 µs each round", got)
	}
	if got := sides[2].CPU; len(got) != 0 {
		t.Errorf("a run that counts no messages has CPU per message %v", got)
	}
	sides, err = interleave([]contender{{"child", child}}, 2, false)
	if err != nil {
		t.Fatal(err)
	}
	if got := sides[0].CPU; len(got) != 0 {
		t.Errorf("a row without cpu has CPU per message %v", got)
	}
}

// TestProcessCPUCountsWork: busy work moves the process's CPU time by
// about what it takes, not by a factor of 1000 either way.
func TestProcessCPUCountsWork(t *testing.T) {
	before, ok := processCPU()
	if !ok {
		t.Skip("no process CPU time here")
	}
	start := time.Now()
	x := 0.0
	for {
		for i := range 1_000_000 {
			x += float64(i)
		}
		now, _ := processCPU()
		if now-before >= 20*time.Millisecond {
			break
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("10 s of busy work moved the CPU time by %v", now-before)
		}
	}
	if el := time.Since(start); el < 10*time.Millisecond {
		t.Errorf("20 ms of CPU time counted within %v of wall time (x=%v)", el, x)
	}
}

func TestChildCPU(t *testing.T) {
	if childCPU(nil) != 0 {
		t.Error("a child that did not run has CPU time")
	}
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	cmd := exec.Command(sh, "-c", "i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	if d := childCPU(cmd.ProcessState); d <= 0 || d > time.Minute {
		t.Errorf("a shell loop used %v of CPU", d)
	}
}
