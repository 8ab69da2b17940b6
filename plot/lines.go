package plot

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg/draw"
)

// LineChart draws lines with a marker at every point, in the colours and
// marker shapes of gonum's plotutil (line i takes colour and shape i), the
// legend at the top left.
type LineChart struct {
	Title, XLabel, YLabel string
	Ticks                 []Tick  // the X axis's ticks; nil: chosen from the data
	YMin, YMax            float64 // the Y range; both 0: fitted to the data
	Lines                 []Line
}

// Line is one line of a LineChart. A line with a NaN or infinite value is
// left out, and so are error bars with one.
type Line struct {
	Name string
	X, Y []float64
	Err  []float64 // when set, an error bar from Y-Err to Y+Err at each point
}

func (f *LineChart) drawOn(c draw.Canvas) error {
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text, p.Y.Label.Text = f.XLabel, f.YLabel
	if f.Ticks != nil {
		ticks := make([]plot.Tick, len(f.Ticks))
		for i, t := range f.Ticks {
			ticks[i] = plot.Tick{Value: t.Value, Label: t.Label}
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
	}
	if f.YMin != 0 || f.YMax != 0 {
		p.Y.Min, p.Y.Max = f.YMin, f.YMax
	}
	p.Legend.Top, p.Legend.Left = true, true
	for i, line := range f.Lines {
		if len(line.X) != len(line.Y) || line.Err != nil && len(line.Err) != len(line.Y) {
			return fmt.Errorf("line %q: %d x, %d y, %d error values", line.Name, len(line.X), len(line.Y), len(line.Err))
		}
		xys := make(plotter.XYs, len(line.X))
		for j := range xys {
			xys[j] = plotter.XY{X: line.X[j], Y: line.Y[j]}
		}
		l, pts, err := plotter.NewLinePoints(xys)
		if err != nil {
			continue
		}
		l.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
		p.Add(l, pts)
		p.Legend.Add(line.Name, l, pts)
		if line.Err != nil {
			errs := make(plotter.YErrors, len(line.Err))
			for j, e := range line.Err {
				errs[j] = struct{ Low, High float64 }{e, e}
			}
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{xys, errs})
			if err == nil {
				eb.Color = plotutil.Color(i)
				p.Add(eb)
			}
		}
	}
	p.Draw(c)
	return nil
}
