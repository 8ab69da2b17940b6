package plot

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ScatterGrid draws scatter plots side by side, Columns to a row, of points
// that belong to classes; each class has its colour in every plot, and a
// strip on the right holds the legend of the classes present in the first
// plot.
type ScatterGrid struct {
	Columns int      // plots per row; 0 means all in one row
	Classes []string // the legend's name of class 0, 1, ...
	Plots   []Scatter
}

// Scatter is one plot of a ScatterGrid.
type Scatter struct {
	Title, XLabel, YLabel string
	Points                []ClassPoint
}

// ClassPoint is a point of class Class (an index into ScatterGrid.Classes).
type ClassPoint struct {
	X, Y  float64
	Class int
}

// Rows is the number of rows the plots take.
func (g *ScatterGrid) Rows() int {
	cols := g.cols()
	return (len(g.Plots) + cols - 1) / cols
}

func (g *ScatterGrid) cols() int {
	if g.Columns > 0 {
		return g.Columns
	}
	return max(1, len(g.Plots))
}

func (g *ScatterGrid) drawOn(c draw.Canvas) error {
	rows, cols := g.Rows(), g.cols()
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, cols)
	}
	legend := plot.NewLegend()
	for i, sp := range g.Plots {
		p := plot.New()
		p.Title.Text = sp.Title
		p.X.Label.Text, p.Y.Label.Text = sp.XLabel, sp.YLabel
		byClass := make([]plotter.XYs, len(g.Classes))
		for _, pt := range sp.Points {
			if pt.Class < 0 || pt.Class >= len(g.Classes) {
				return fmt.Errorf("scatter %q: a point of class %d, but there are %d classes", sp.Title, pt.Class, len(g.Classes))
			}
			byClass[pt.Class] = append(byClass[pt.Class], plotter.XY{X: pt.X, Y: pt.Y})
		}
		for k, xys := range byClass {
			if len(xys) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				continue
			}
			sc.GlyphStyle.Color = ClassColor(k)
			sc.GlyphStyle.Radius = vg.Points(1.4)
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Add(sc)
			if i == 0 {
				legend.Add(g.Classes[k], sc)
			}
		}
		plots[i/cols][i%cols] = p
	}
	const strip = 0.9 * vg.Inch
	width := c.Max.X - c.Min.X
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter, PadY: vg.Millimeter, PadTop: 2 * vg.Millimeter,
		PadBottom: vg.Millimeter, PadLeft: vg.Millimeter, PadRight: vg.Millimeter}
	canvases := plot.Align(plots, tiles, draw.Crop(c, 0, -strip, 0, 0))
	for i := range plots {
		for j, p := range plots[i] {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	legend.Top = true
	legend.Draw(draw.Crop(c, width-strip+2*vg.Millimeter, 0, 0, -5*vg.Millimeter))
	return nil
}

// tab10 are ten colours that stay apart for the classes of most plots.
var tab10 = []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255},
	{23, 190, 207, 255}}

// ClassColor is the colour of class k in every scatter: ten well separated
// colours, then a rainbow.
func ClassColor(k int) color.Color {
	if k < len(tab10) {
		return tab10[k]
	}
	return palette.Rainbow(k+1, 0, 0.9, 0.8, 0.8, 1).Colors()[k]
}
