package main

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// bar is one ratio on the chart: a row against one peer.
type bar struct {
	label string
	ratio float64
}

// bars lists every ratio of the rows that ran, top row first.
func bars(rows []Row) []bar {
	var out []bar
	for _, r := range rows {
		if r.Skipped != "" {
			continue
		}
		for _, p := range r.Peers {
			x := ratio(r.Unit, r.Eventpub.Median(), p.Median())
			if math.IsNaN(x) {
				continue
			}
			label := r.What
			if r.Short != "" {
				label = r.Short
			}
			if len(r.Peers) > 1 {
				label += " vs " + p.Name
			}
			out = append(out, bar{label: label, ratio: x})
		}
	}
	return out
}

// logTicks labels a log10 axis in plain ratios.
type logTicks struct{}

func (logTicks) Ticks(lo, hi float64) []plot.Tick {
	var t []plot.Tick
	for _, r := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100} {
		x := math.Log10(r)
		if x >= lo-1e-9 && x <= hi+1e-9 {
			t = append(t, plot.Tick{Value: x, Label: fmt.Sprintf("%g×", r)})
		}
	}
	return t
}

// writeChart draws the ratios as horizontal bars on a log scale from the
// 1.0 line: right (green) where eventpub is better, left (red) where the
// peer is.
func writeChart(path, title string, rows []Row) error {
	bs := bars(rows)
	if len(bs) == 0 {
		return fmt.Errorf("no rows ran, nothing to chart")
	}
	n := len(bs)
	win, loss := make(plotter.Values, n), make(plotter.Values, n)
	names := make([]string, n)
	labels := plotter.XYLabels{XYs: make(plotter.XYs, n), Labels: make([]string, n)}
	lo, hi := math.Log10(0.5), math.Log10(2)
	for i, b := range bs {
		j := n - 1 - i // first row at the top
		v := math.Log10(b.ratio)
		if v >= 0 {
			win[j] = v
		} else {
			loss[j] = v
		}
		names[j] = "   " + b.label // room: the axis measures labels a little short
		labels.XYs[j] = plotter.XY{X: v, Y: float64(j)}
		labels.Labels[j] = fmt.Sprintf("  %.2f×  ", b.ratio)
		lo, hi = min(lo, v), max(hi, v)
	}
	p := plot.New()
	p.Title.Text = title
	p.Title.Padding = vg.Points(10)
	p.X.Label.Text = "eventpub ÷ peer (log scale; right of 1× eventpub is better)"
	p.X.Tick.Marker = logTicks{}
	p.X.Min, p.X.Max = lo-0.25, hi+0.35
	p.Y.Tick.Label.Font.Size = vg.Points(9)

	w := vg.Points(12)
	green := color.RGBA{R: 46, G: 139, B: 87, A: 255}
	red := color.RGBA{R: 200, G: 60, B: 50, A: 255}
	for _, c := range []struct {
		v   plotter.Values
		col color.Color
	}{{win, green}, {loss, red}} {
		bc, err := plotter.NewBarChart(c.v, w)
		if err != nil {
			return err
		}
		bc.Horizontal = true
		bc.Color = c.col
		bc.LineStyle.Width = 0
		p.Add(bc)
	}
	line, err := plotter.NewLine(plotter.XYs{{X: 0, Y: -0.7}, {X: 0, Y: float64(n) - 0.3}})
	if err != nil {
		return err
	}
	line.Width = vg.Points(1.5)
	line.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(line)
	lb, err := plotter.NewLabels(labels)
	if err != nil {
		return err
	}
	for i := range lb.TextStyle {
		lb.TextStyle[i].Font.Size = vg.Points(9)
		lb.TextStyle[i].YAlign = draw.YCenter
		if labels.XYs[i].X < 0 {
			lb.TextStyle[i].XAlign = draw.XRight
		}
	}
	p.Add(lb)
	p.NominalY(names...)
	p.Add(plotter.NewGrid())
	return p.Save(9*vg.Inch, vg.Length(1.2+0.42*float64(n))*vg.Inch, path)
}
