package analysis

import (
	"bytes"
	"fmt"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Figure is one picture of a report, drawn on demand as PNG or SVG, so the
// command can save it and a study's HTML report can embed it.
type Figure struct {
	Name          string // file stem, e.g. "contribution-accuracy"
	Caption       string
	Width, Height vg.Length
	draw          func(c draw.Canvas)
}

// Formats are the figure formats Render accepts.
var Formats = []string{"png", "svg"}

// ParseFormat accepts png or svg, as typed on the command line.
func ParseFormat(s string) (string, error) {
	for _, f := range Formats {
		if s == f {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown figure format %q: want %s", s, strings.Join(Formats, " or "))
}

// Render draws the figure in a format of Formats.
func (f Figure) Render(format string) (out []byte, err error) {
	if _, err := ParseFormat(format); err != nil {
		return nil, err
	}
	c, err := draw.NewFormattedCanvas(f.Width, f.Height, format)
	if err != nil {
		return nil, err
	}
	// The plotting library panics on data it cannot draw; a figure must not
	// take the whole analysis down with it.
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("analysis: drawing figure %s: %v", f.Name, p)
		}
	}()
	f.draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Figures lists the report's pictures: heat maps of the block-by-slot
// measures and the confusion matrices, the lens per slot, the CKA matrix and
// the PCA planes.
func (r *Report) Figures() []Figure {
	L := r.Depth
	side := vg.Length(max(4, L)) * 0.75 * vg.Inch // room for the cell labels
	heat := func(name, caption string, g Grid, unit string, scale float64, verb string, diverging bool) Figure {
		return Figure{Name: name, Caption: caption, Width: side + 1.6*vg.Inch, Height: side + 0.6*vg.Inch,
			draw: func(c draw.Canvas) {
				heatMap(c, heatSpec{title: caption, grid: g, unit: unit, scale: scale, verb: verb, diverging: diverging,
					xLabel: "slot", yLabel: "block", annotate: true})
			}}
	}
	c := r.Contribution
	figs := []Figure{
		heat("contribution-accuracy", r.Model+": accuracy drop when skipped (points)", c.Accuracy, "points", 100, "%+.1f", true),
		heat("contribution-loss", r.Model+": loss rise when skipped (nats)", c.Loss, "nats", 1, "%+.2f", true),
		heat("lens-blocks", r.Model+": logit lens after block at slot (%)", r.Lens.BlockSlot, "%", 100, "%.0f", false),
		{Name: "lens", Caption: r.Model + ": logit lens, accuracy after each slot", Width: 6 * vg.Inch, Height: 4 * vg.Inch,
			draw: func(cv draw.Canvas) { lensPlot(cv, r) }},
	}
	for _, sp := range []*SlotPrediction{r.Head, r.Probe} {
		if sp == nil {
			continue
		}
		name := "probe"
		if sp == r.Head {
			name = "head"
		}
		figs = append(figs,
			heat(name, fmt.Sprintf("%s: %s, slot accuracy (%%)", r.Model, sp.Method), sp.BlockSlot, "%", 100, "%.0f", false),
			Figure{Name: name + "-confusion", Caption: fmt.Sprintf("%s: %s, true x predicted slot (%% of row)", r.Model, sp.Method),
				Width: side + 1.6*vg.Inch, Height: side + 0.6*vg.Inch, draw: func(cv draw.Canvas) {
					heatMap(cv, heatSpec{title: fmt.Sprintf("%s: %s confusion (%% of row)", r.Model, sp.Method),
						grid: rowShares(sp.Confusion), unit: "%", scale: 100, verb: "%.0f", xLabel: "predicted slot",
						yLabel: "true slot", annotate: true, min: 0, max: 1, fixed: true})
				}})
	}
	cells := len(r.CKA.Matrix.Rows)
	ckaSide := vg.Length(max(6, cells/4)) * vg.Inch
	figs = append(figs, Figure{Name: "cka", Caption: r.Model + ": linear CKA between (block, slot) outputs, ordered by slot",
		Width: ckaSide + 1.6*vg.Inch, Height: ckaSide + 0.4*vg.Inch, draw: func(cv draw.Canvas) {
			heatMap(cv, heatSpec{title: r.Model + ": linear CKA, cells b<block>@s<slot>", grid: r.CKA.Matrix, unit: "CKA",
				scale: 1, min: 0, max: 1, fixed: true, rotateX: true})
		}})
	if len(r.PCA) > 0 {
		cols := min(3, len(r.PCA))
		rows := (len(r.PCA) + cols - 1) / cols
		for _, centred := range []bool{false, true} {
			name, caption := "pca", r.Model+": 2-D PCA of each block's outputs, coloured by slot"
			if centred {
				name, caption = "pca-centred", r.Model+": 2-D PCA of each block's outputs minus the image's mean over slots"
			}
			figs = append(figs, Figure{Name: name, Caption: caption,
				Width: vg.Length(cols)*3.2*vg.Inch + 0.9*vg.Inch, Height: vg.Length(rows) * 3 * vg.Inch,
				draw: func(cv draw.Canvas) { pcaTiles(cv, r, rows, cols, centred) }})
		}
	}
	return figs
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
