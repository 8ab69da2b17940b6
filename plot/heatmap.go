package plot

import (
	"fmt"
	"image/color"
	"math"

	"github.com/frankenvit/frankenvit/stats"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/palette/moreland"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// HeatMap draws a matrix of values as coloured cells, row 0 at the top, in
// one palette (blue, grey, red), with a colour bar on the right in the unit
// of the cell labels. NaN cells are white and unlabelled.
type HeatMap struct {
	Title, XLabel, YLabel string
	Rows, Cols            []string    // the labels of the rows (top to bottom) and columns
	Values                [][]float64 // Values[row][col]
	Unit                  string      // the colour bar's label
	Scale                 float64     // cell labels and the colour bar show value*Scale; 0 means 1
	Verb                  string      // the fmt verb of a cell label, e.g. "%+.1f"
	Annotate              bool        // print each value in its cell
	Diverging             bool        // colour range symmetric around 0
	Fixed                 bool        // colour range Min..Max, not the data's range
	Min, Max              float64
	RotateX               bool // vertical column labels, for many columns
}

// heatXYZ shows a HeatMap to plotter.HeatMap with row 0 at the top.
type heatXYZ struct{ h *HeatMap }

func (x heatXYZ) Dims() (c, r int)   { return len(x.h.Cols), len(x.h.Rows) }
func (x heatXYZ) Z(c, r int) float64 { return x.h.Values[len(x.h.Rows)-1-r][c] }
func (x heatXYZ) X(c int) float64    { return float64(c) }
func (x heatXYZ) Y(r int) float64    { return float64(r) }

// colorMap is the one palette of every heat map: blue, grey, red.
func colorMap(lo, hi float64) palette.ColorMap {
	cm := moreland.SmoothBlueRed()
	cm.SetMax(hi)
	cm.SetMin(lo)
	return cm
}

// dataRange is the range of the finite values, 0, 0 without any.
func (s *HeatMap) dataRange() (lo, hi float64) {
	return stats.FiniteRange(s.Values)
}

func (s *HeatMap) drawOn(c draw.Canvas) error {
	if len(s.Values) != len(s.Rows) {
		return fmt.Errorf("heat map %q: %d rows of values for %d row labels", s.Title, len(s.Values), len(s.Rows))
	}
	for i, row := range s.Values {
		if len(row) != len(s.Cols) {
			return fmt.Errorf("heat map %q: row %d has %d values for %d column labels", s.Title, i, len(row), len(s.Cols))
		}
	}
	scale := s.Scale
	if scale == 0 {
		scale = 1
	}
	lo, hi := s.dataRange()
	if s.Fixed {
		lo, hi = s.Min, s.Max
	}
	if s.Diverging {
		m := math.Max(math.Abs(lo), math.Abs(hi))
		lo, hi = -m, m
	}
	if hi <= lo { // a constant grid still gets a colour
		lo, hi = lo-0.5, lo+0.5
	}
	cm := colorMap(lo, hi)
	h := plotter.NewHeatMap(heatXYZ{s}, cm.Palette(255))
	h.Min, h.Max = lo, hi
	h.NaN = color.White

	p := plot.New()
	p.Title.Text = s.Title
	p.X.Label.Text, p.Y.Label.Text = s.XLabel, s.YLabel
	p.Add(h)
	rows, cols := len(s.Rows), len(s.Cols)
	var xt, yt []plot.Tick
	for j, name := range s.Cols {
		xt = append(xt, plot.Tick{Value: float64(j), Label: name})
	}
	for i, name := range s.Rows {
		yt = append(yt, plot.Tick{Value: float64(rows - 1 - i), Label: name})
	}
	p.X.Tick.Marker, p.Y.Tick.Marker = plot.ConstantTicks(xt), plot.ConstantTicks(yt)
	if s.RotateX {
		p.X.Tick.Label.Rotation = math.Pi / 2
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YCenter
	}
	if rows*cols > 100 {
		p.X.Tick.Label.Font.Size, p.Y.Tick.Label.Font.Size = vg.Points(6), vg.Points(6)
	}
	p.X.Padding, p.Y.Padding = 0, 0
	if s.Annotate {
		var pts plotter.XYs
		var names []string
		for i, row := range s.Values {
			for j, v := range row {
				if math.IsNaN(v) {
					continue
				}
				pts = append(pts, plotter.XY{X: float64(j), Y: float64(rows - 1 - i)})
				names = append(names, fmt.Sprintf(s.Verb, v*scale))
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
	scaled := colorMap(lo*scale, hi*scale)
	cb := plot.New()
	cb.Add(&plotter.ColorBar{ColorMap: scaled, Vertical: true})
	cb.HideX()
	cb.Y.Label.Text = s.Unit
	cb.Title.Text = " "
	cb.Draw(draw.Crop(c, width-bar+0.3*vg.Inch, 0, 0.5*vg.Inch, 0))
	return nil
}
