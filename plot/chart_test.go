package plot

import (
	"bytes"
	"image/png"
	"math"
	"strings"
	"testing"
)

func heat() *HeatMap {
	return &HeatMap{Title: "drop", XLabel: "slot", YLabel: "block", Rows: []string{"block 0", "block 1"},
		Cols: []string{"slot 0", "slot 1", "slot 2"}, Values: [][]float64{{0.1, -0.2, math.NaN()}, {0, 0.3, 0.05}},
		Unit: "points", Scale: 100, Verb: "%+.1f", Annotate: true, Diverging: true}
}

func TestChartsRender(t *testing.T) {
	charts := map[string]Chart{
		"heat map": heat(),
		"lines": &LineChart{Title: "lens", Ticks: []Tick{{0, "stem"}, {1, "slot 0"}}, YMin: 0, YMax: 100, Lines: []Line{
			{Name: "sequential", X: []float64{0, 1}, Y: []float64{10, 60}},
			{Name: "random", X: []float64{0, 1}, Y: []float64{10, 40}, Err: []float64{0, 5}}}},
		"scatter grid": &ScatterGrid{Columns: 2, Classes: []string{"slot 0", "slot 1"}, Plots: []Scatter{
			{Title: "block 0", Points: []ClassPoint{{1, 2, 0}, {2, 1, 1}}},
			{Title: "block 1", Points: []ClassPoint{{0, 0, 1}}},
			{Title: "block 2", Points: []ClassPoint{{3, 3, 0}}}}},
		"figure": figure(),
	}
	for name, c := range charts {
		svg, err := Render(c, 5*Inch, 4*Inch, "svg")
		if err != nil || !bytes.Contains(svg, []byte("<svg")) {
			t.Errorf("%s: not an SVG: %v", name, err)
		}
		b, err := Render(c, 5*Inch, 4*Inch, "png")
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil || img.Bounds().Dx() != 480 {
			t.Errorf("%s: not a PNG 5 inches (480 pixels at 96 dpi) wide: %v", name, err)
		}
	}
	svg, _ := Render(heat(), 5*Inch, 4*Inch, "svg")
	for _, want := range []string{"+10.0", "-20.0", "+30.0", "points", "block 1", "slot 2"} {
		if !strings.Contains(string(svg), want) {
			t.Errorf("the heat map's SVG lacks %q", want)
		}
	}
	if g := (&ScatterGrid{Columns: 2, Plots: make([]Scatter, 3)}); g.Rows() != 2 {
		t.Errorf("3 plots 2 to a row take %d rows, want 2", g.Rows())
	}
}

// A heat map without data (every cell NaN) still draws, and so does a
// constant one.
func TestHeatMapWithoutRange(t *testing.T) {
	for _, v := range []float64{math.NaN(), 0.5} {
		h := heat()
		h.Diverging = false
		for _, row := range h.Values {
			for j := range row {
				row[j] = v
			}
		}
		if _, err := Render(h, 300, 300, "png"); err != nil {
			t.Errorf("cells of %v: %v", v, err)
		}
	}
}

func TestChartRefusals(t *testing.T) {
	if _, err := Render(heat(), 300, 300, "gif"); err == nil || !strings.Contains(err.Error(), "want png or svg") {
		t.Errorf("a gif: %v", err)
	}
	ragged := heat()
	ragged.Values[1] = ragged.Values[1][:2]
	if _, err := Render(ragged, 300, 300, "svg"); err == nil {
		t.Error("a ragged heat map was drawn")
	}
	stray := &ScatterGrid{Classes: []string{"a"}, Plots: []Scatter{{Points: []ClassPoint{{0, 0, 1}}}}}
	if _, err := Render(stray, 300, 300, "svg"); err == nil {
		t.Error("a point of a class without a name was drawn")
	}
	short := &LineChart{Lines: []Line{{X: []float64{0, 1}, Y: []float64{1}}}}
	if _, err := Render(short, 300, 300, "svg"); err == nil {
		t.Error("a line with fewer y than x values was drawn")
	}
	if _, err := ParseFormat("PNG"); err == nil {
		t.Error("PNG in capitals was accepted (the flag is lower case)")
	}
}
