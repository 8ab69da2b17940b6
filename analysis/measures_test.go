package analysis

import (
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// Every table and figure of a report belongs to exactly one measure, and
// every name a measure lists is one a report produces: a study report that
// shows the measures shows everything.
func TestMeasuresCoverTheReport(t *testing.T) {
	split, norm := stripes(120, 3)
	listed := map[string]int{}
	for _, m := range Measures {
		if m.Title == "" || m.About == "" || len(m.Tables)+len(m.Figures) == 0 {
			t.Errorf("measure %+v is incomplete", m)
		}
		for _, n := range m.Tables {
			listed["table "+n]++
		}
		for _, n := range m.Figures {
			listed["figure "+n]++
		}
	}
	produced := map[string]bool{}
	for _, v := range []vit.Variant{vit.Baseline, vit.ShufflePredict} {
		r, err := Run(randomModel(t, tinyConfig(v), 4), split, norm, Options{Orders: 3, Seed: 1, PCAImages: 20})
		if err != nil {
			t.Fatal(err)
		}
		for _, nt := range r.Tables() {
			produced["table "+nt.Name] = true
		}
		for _, f := range r.Figures() {
			produced["figure "+f.Name] = true
		}
	}
	for name := range produced {
		if listed[name] != 1 {
			t.Errorf("%s is in %d measures, want 1", name, listed[name])
		}
	}
	for name := range listed {
		if !produced[name] {
			t.Errorf("the measures list %s, which no report produces", name)
		}
	}
}
