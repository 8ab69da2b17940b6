package sweep

import (
	"fmt"

	"github.com/frankenvit/frankenvit/plot"
)

// Figure draws the summary. A depth sweep gets one panel per model (or
// population): accuracy against blocks removed, one curve per strategy with
// its 95% band, and the models trained at reduced depth as single points in
// every panel. An orders sweep is one panel: the accuracy under each kind of
// order, one series per model.
func Figure(d *Document, rows []Row) *plot.Figure {
	ylabel := fmt.Sprintf("accuracy on the %s split (%%)", d.Options.Split)
	f := &plot.Figure{}
	panel := func(title string) *plot.Panel {
		p := panelNamed(f, title)
		p.YLabel, p.YMin, p.YMax = ylabel, 0, 100
		return p
	}
	series := func(p *plot.Panel, name string, points bool) *plot.Series {
		s := seriesNamed(p, name)
		s.PointsOnly = points
		return s
	}
	add := func(s *plot.Series, x float64, r Row) {
		s.X, s.Y = append(s.X, x), append(s.Y, 100*r.Mean)
		s.Low, s.High = append(s.Low, 100*r.Low), append(s.High, 100*r.High)
	}
	if d.Sweep == Orders {
		p := panel("Accuracy under block orders (mean and 95% interval)")
		p.XLabel = "block order at test time"
		kinds := map[string]int{}
		for _, r := range rows {
			if _, ok := kinds[r.Kind]; !ok {
				kinds[r.Kind] = len(p.Categories)
				p.Categories = append(p.Categories, r.Kind)
			}
		}
		for _, r := range rows {
			add(series(p, fmt.Sprintf("%s (%s)", r.Group, r.Variant), true), float64(kinds[r.Kind]), r)
		}
		return f
	}
	if d.Sweep == Merge {
		p := panel("Random Frankenstein models (mean and 95% interval)")
		p.XLabel, p.IntegerX = "source models mixed", true
		for _, r := range rows {
			add(series(p, fmt.Sprintf("%s (%s)", r.Group, r.Variant), false), float64(r.Sources), r)
		}
		return f
	}
	var refs []Row
	for _, r := range rows {
		if r.Kind == "reference" {
			refs = append(refs, r)
			continue
		}
		p := panel(fmt.Sprintf("%s (%s): accuracy against blocks removed", r.Group, r.Variant))
		p.XLabel, p.IntegerX = "blocks removed", true
		add(series(p, r.Kind, false), float64(r.Removed), r)
	}
	for i := range f.Panels {
		for _, r := range refs {
			add(series(&f.Panels[i], fmt.Sprintf("%s (%s, %d blocks)", r.Group, r.Variant, r.Blocks), true), float64(r.Removed), r)
		}
	}
	return f
}
