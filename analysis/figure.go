package analysis

import (
	"fmt"
	"strconv"

	"github.com/frankenvit/frankenvit/plot"
)

// Figure is one picture of a report, drawn on demand as PNG or SVG, so the
// command can save it and a study's HTML report can embed it.
type Figure struct {
	Name          string // file stem, e.g. "contribution-accuracy"
	Caption       string
	Width, Height plot.Length
	Chart         plot.Chart
}

// Formats are the figure formats Render accepts.
var Formats = plot.Formats

// ParseFormat accepts png or svg, as typed on the command line.
func ParseFormat(s string) (string, error) { return plot.ParseFormat(s) }

// Render draws the figure in a format of Formats.
func (f Figure) Render(format string) ([]byte, error) {
	if _, err := ParseFormat(format); err != nil {
		return nil, err
	}
	out, err := plot.Render(f.Chart, f.Width, f.Height, format)
	if err != nil {
		return nil, fmt.Errorf("analysis: drawing figure %s: %v", f.Name, err)
	}
	return out, nil
}

// heatMap is the heat map of a grid, row 0 at the top, its cell labels and
// colour bar showing value*scale in unit.
func heatMap(title string, g Grid, unit string, scale float64, verb string) *plot.HeatMap {
	return &plot.HeatMap{Title: title, Rows: g.Rows, Cols: g.Cols, Values: g.Values, Unit: unit, Scale: scale,
		Verb: verb}
}

// Figures lists the report's pictures: heat maps of the block-by-slot
// measures and the confusion matrices, the lens per slot, the CKA matrix and
// the PCA planes.
func (r *Report) Figures() []Figure {
	L := r.Depth
	side := plot.Length(max(4, L)) * 0.75 * plot.Inch // room for the cell labels
	heat := func(name, caption string, g Grid, unit string, scale float64, verb string, diverging bool) Figure {
		h := heatMap(caption, g, unit, scale, verb)
		h.Diverging, h.XLabel, h.YLabel, h.Annotate = diverging, "slot", "block", true
		return Figure{Name: name, Caption: caption, Width: side + 1.6*plot.Inch, Height: side + 0.6*plot.Inch, Chart: h}
	}
	c := r.Contribution
	figs := []Figure{
		heat("contribution-accuracy", r.Model+": accuracy drop when skipped (points)", c.Accuracy, "points", 100, "%+.1f", true),
		heat("contribution-loss", r.Model+": loss rise when skipped (nats)", c.Loss, "nats", 1, "%+.2f", true),
		heat("lens-blocks", r.Model+": logit lens after block at slot (%)", r.Lens.BlockSlot, "%", 100, "%.0f", false),
		{Name: "lens", Caption: r.Model + ": logit lens, accuracy after each slot", Width: 6 * plot.Inch, Height: 4 * plot.Inch,
			Chart: lensChart(r)},
	}
	for _, sp := range []*SlotPrediction{r.Head, r.Probe} {
		if sp == nil {
			continue
		}
		name := "probe"
		if sp == r.Head {
			name = "head"
		}
		confusion := heatMap(fmt.Sprintf("%s: %s confusion (%% of row)", r.Model, sp.Method), rowShares(sp.Confusion), "%",
			100, "%.0f")
		confusion.XLabel, confusion.YLabel, confusion.Annotate = "predicted slot", "true slot", true
		confusion.Fixed, confusion.Min, confusion.Max = true, 0, 1
		figs = append(figs,
			heat(name, fmt.Sprintf("%s: %s, slot accuracy (%%)", r.Model, sp.Method), sp.BlockSlot, "%", 100, "%.0f", false),
			Figure{Name: name + "-confusion", Caption: fmt.Sprintf("%s: %s, true x predicted slot (%% of row)", r.Model, sp.Method),
				Width: side + 1.6*plot.Inch, Height: side + 0.6*plot.Inch, Chart: confusion})
	}
	cells := len(r.CKA.Matrix.Rows)
	ckaSide := plot.Length(max(6, cells/4)) * plot.Inch
	cka := heatMap(r.Model+": linear CKA, cells b<block>@s<slot>", r.CKA.Matrix, "CKA", 1, "")
	cka.Fixed, cka.Min, cka.Max, cka.RotateX = true, 0, 1, true
	figs = append(figs, Figure{Name: "cka", Caption: r.Model + ": linear CKA between (block, slot) outputs, ordered by slot",
		Width: ckaSide + 1.6*plot.Inch, Height: ckaSide + 0.4*plot.Inch, Chart: cka})
	if len(r.PCA) > 0 {
		for _, centred := range []bool{false, true} {
			name, caption := "pca", r.Model+": 2-D PCA of each block's outputs, coloured by slot"
			if centred {
				name, caption = "pca-centred", r.Model+": 2-D PCA of each block's outputs minus the image's mean over slots"
			}
			g := pcaGrid(r, centred)
			figs = append(figs, Figure{Name: name, Caption: caption,
				Width: plot.Length(g.Columns)*3.2*plot.Inch + 0.9*plot.Inch, Height: plot.Length(g.Rows()) * 3 * plot.Inch,
				Chart: g})
		}
	}
	return figs
}

// lensChart is the lens accuracy after the stem and after every slot, for
// the sequential order and the mean of the random orders (± one std).
func lensChart(r *Report) *plot.LineChart {
	ticks := []plot.Tick{{Value: 0, Label: "stem"}}
	x := []float64{0}
	seq, rnd, std := []float64{100 * r.Lens.Stem}, []float64{100 * r.Lens.Stem}, []float64{0}
	for s := 0; s < r.Depth; s++ {
		ticks = append(ticks, plot.Tick{Value: float64(s + 1), Label: "slot " + strconv.Itoa(s)})
		x = append(x, float64(s+1))
		seq = append(seq, 100*r.Lens.Sequential[s])
		rnd = append(rnd, 100*r.Lens.Random[s])
		std = append(std, 100*r.Lens.RandomStd[s])
	}
	return &plot.LineChart{Title: r.Model + ": logit lens", XLabel: "after", YLabel: "accuracy %", Ticks: ticks,
		YMin: 0, YMax: 100, Lines: []plot.Line{
			{Name: "sequential order", X: x, Y: seq},
			{Name: fmt.Sprintf("random orders (mean of %d, ± std)", len(r.Orders)), X: x, Y: rnd, Err: std},
		}}
}

// pcaGrid is one scatter per block, its outputs coloured by slot, up to
// three to a row.
func pcaGrid(r *Report, centred bool) *plot.ScatterGrid {
	g := &plot.ScatterGrid{Columns: min(3, len(r.PCA))}
	for s := 0; s < r.Depth; s++ {
		g.Classes = append(g.Classes, "slot "+strconv.Itoa(s))
	}
	for _, bp := range r.PCA {
		pl := bp.Outputs
		if centred {
			pl = bp.Centred
		}
		sc := plot.Scatter{Title: fmt.Sprintf("block %d (axes %.0f%%, %.0f%%; slot share %.2f)", bp.Block,
			100*pl.Explained[0], 100*pl.Explained[1], pl.SlotShare), XLabel: "first axis", YLabel: "second axis"}
		for _, pt := range pl.Points {
			sc.Points = append(sc.Points, plot.ClassPoint{X: pt.X, Y: pt.Y, Class: pt.Slot})
		}
		g.Plots = append(g.Plots, sc)
	}
	return g
}

// rowShares divides every row of counts by its sum.
func rowShares(g Grid) Grid {
	out := NewGrid(g.Rows, g.Cols)
	for i, row := range g.Values {
		var total float64
		for _, v := range row {
			total += v
		}
		for j, v := range row {
			if total > 0 {
				out.Values[i][j] = v / total
			}
		}
	}
	return out
}
