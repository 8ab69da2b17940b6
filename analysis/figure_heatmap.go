package analysis

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// heatSpec describes one heat map of a grid, row 0 at the top.
type heatSpec struct {
	title, unit, verb, xLabel, yLabel string
	grid                              Grid
	scale                             float64 // cell labels and colour bar show value*scale
	diverging                         bool    // colour range symmetric around 0
	annotate                          bool    // print each value in its cell
	fixed                             bool    // use min and max, not the data's range
	min, max                          float64
	rotateX                           bool // vertical column labels, for many columns
}

// gridXYZ shows a Grid to plotter.HeatMap with row 0 at the top.
type gridXYZ struct{ g Grid }

func (x gridXYZ) Dims() (c, r int)   { return len(x.g.Cols), len(x.g.Rows) }
func (x gridXYZ) Z(c, r int) float64 { return x.g.Values[len(x.g.Rows)-1-r][c] }
func (x gridXYZ) X(c int) float64    { return float64(c) }
func (x gridXYZ) Y(r int) float64    { return float64(r) }

// colorMap is the one palette of every heat map: blue, grey, red.
func colorMap(lo, hi float64) palette.ColorMap {
	cm := moreland.SmoothBlueRed()
	cm.SetMax(hi)
	cm.SetMin(lo)
	return cm
}

func heatMap(c draw.Canvas, s heatSpec) {
	lo, hi := s.grid.Range()
	if s.fixed {
		lo, hi = s.min, s.max
	}
	if s.diverging {
		m := math.Max(math.Abs(lo), math.Abs(hi))
		lo, hi = -m, m
	}
	if hi <= lo { // a constant grid still gets a colour
		lo, hi = lo-0.5, lo+0.5
	}
	cm := colorMap(lo, hi)
	h := plotter.NewHeatMap(gridXYZ{s.grid}, cm.Palette(255))
	h.Min, h.Max = lo, hi
	h.NaN = color.White

	p := plot.New()
	p.Title.Text = s.title
	p.X.Label.Text, p.Y.Label.Text = s.xLabel, s.yLabel
	p.Add(h)
	rows, cols := len(s.grid.Rows), len(s.grid.Cols)
	var xt, yt []plot.Tick
	for j, name := range s.grid.Cols {
		xt = append(xt, plot.Tick{Value: float64(j), Label: name})
	}
	for i, name := range s.grid.Rows {
		yt = append(yt, plot.Tick{Value: float64(rows - 1 - i), Label: name})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	if s.rotateX {
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	if rows*cols > 100 {
		p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = vg.Points(6), vg.Points(6)
	}
	p.X.Padding, p.Y.Padding = 0, 0
	if s.annotate {
		var pts plotter.XYs
		var names []string
		for i, row := range s.grid.Values {
			for j, v := range row {
				if math.IsNaN(v) {
					continue
				}
				pts = append(pts, plotter.XY{X: float64(j), Y: float64(rows - 1 - i)})
				names = append(names, fmt.Sprintf(s.verb, v*s.scale))
			}
		}
		if len(pts) > 0 {
			if l, err := plotter.NewLabels(plotter.XYLabels{XYs: pts, Labels: names}); err == nil {
				for i := range l.TextStyle {
					l.TextStyle[i].XAlign, l.TextStyle[i].YAlign = text.XCenter, text.YCenter
				}
				p.Add(l)
			}
		}
	}
	const bar = 1.1 * vg.Inch
	width := c.Max.X - c.Min.X
	p.Draw(draw.Crop(c, 0, -bar, 0, 0))

	// The colour bar, in the unit of the cell labels.
	scaled := colorMap(lo*s.scale, hi*s.scale)
	cb := plot.New()
	cb.Add(&plotter.ColorBar{ColorMap: scaled, Vertical: true})
	cb.HideX()
	cb.Y.Label.Text = s.unit
	cb.Title.Text = " "
	cb.Draw(draw.Crop(c, width-bar+0.3*vg.Inch, 0, 0.5*vg.Inch, 0))
}
