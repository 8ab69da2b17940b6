package analysis

import (
	"fmt"
	"image/color"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// lensPlot draws the lens accuracy after the stem and after every slot, for
// the sequential order and the mean of the random orders (± one std).
func lensPlot(c draw.Canvas, r *Report) {
	p := plot.New()
	p.Title.Text = r.Model + ": logit lens"
	p.X.Label.Text, p.Y.Label.Text = "after", "accuracy %"
	ticks := []plot.Tick{{Value: 0, Label: "stem"}}
	seq, rnd := plotter.XYs{{X: 0, Y: 100 * r.Lens.Stem}}, plotter.XYs{{X: 0, Y: 100 * r.Lens.Stem}}
	errs := plotter.YErrors{{Low: 0, High: 0}}
	for s := 0; s < r.Depth; s++ {
		x := float64(s + 1)
		ticks = append(ticks, plot.Tick{Value: x, Label: "slot " + strconv.Itoa(s)})
		seq = append(seq, plotter.XY{X: x, Y: 100 * r.Lens.Sequential[s]})
		rnd = append(rnd, plotter.XY{X: x, Y: 100 * r.Lens.Random[s]})
		errs = append(errs, struct{ Low, High float64 }{100 * r.Lens.RandomStd[s], 100 * r.Lens.RandomStd[s]})
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Min, p.Y.Max = 0, 100
	p.Legend.Top, p.Legend.Left = true, true
	for i, line := range []struct {
		name string
		xys  plotter.XYs
	}{{"sequential order", seq}, {fmt.Sprintf("random orders (mean of %d, ± std)", len(r.Orders)), rnd}} {
		l, pts, err := plotter.NewLinePoints(line.xys)
		if err != nil {
			continue
		}
		l.Color, pts.Color = plotutil.Color(i), plotutil.Color(i)
		pts.Shape = plotutil.Shape(i)
		p.Add(l, pts)
		p.Legend.Add(line.name, l, pts)
		if i == 1 {
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{rnd, errs})
			if err == nil {
				eb.Color = plotutil.Color(i)
				p.Add(eb)
			}
		}
	}
	p.Draw(c)
}

// pcaTiles draws one scatter per block, its outputs coloured by slot, and
// the slot legend in a strip on the right.
func pcaTiles(c draw.Canvas, r *Report, rows, cols int, centred bool) {
	plots := make([][]*plot.Plot, rows)
	for i := range plots {
		plots[i] = make([]*plot.Plot, cols)
	}
	legend := plot.NewLegend()
	for i, bp := range r.PCA {
		pl := bp.Outputs
		if centred {
			pl = bp.Centred
		}
		p := plot.New()
		p.Title.Text = fmt.Sprintf("block %d (axes %.0f%%, %.0f%%; slot share %.2f)", bp.Block, 100*pl.Explained[0],
			100*pl.Explained[1], pl.SlotShare)
		p.X.Label.Text, p.Y.Label.Text = "first axis", "second axis"
		bySlot := make([]plotter.XYs, r.Depth)
		for _, pt := range pl.Points {
			bySlot[pt.Slot] = append(bySlot[pt.Slot], plotter.XY{X: pt.X, Y: pt.Y})
		}
		for s, xys := range bySlot {
			if len(xys) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(xys)
			if err != nil {
				continue
			}
			sc.GlyphStyle.Color = slotColor(s)
			sc.GlyphStyle.Radius = vg.Points(1.4)
			sc.GlyphStyle.Shape = draw.CircleGlyph{}
			p.Add(sc)
			if i == 0 {
				legend.Add("slot "+strconv.Itoa(s), sc)
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
}

// tab10 are ten colours that stay apart for the slots of most models.
var tab10 = []color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255},
	{23, 190, 207, 255}}

// slotColor is the colour of slot s in every scatter.
func slotColor(s int) color.Color {
	if s < len(tab10) {
		return tab10[s]
	}
	return palette.Rainbow(s+1, 0, 0.9, 0.8, 0.8, 1).Colors()[s]
}
