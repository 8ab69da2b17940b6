package merge

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/frankenvit/frankenvit/table"
)

// Describe renders the record as `store show` shows it: method, sources,
// seed, plan, and what the method decided, field by field. The alignment's
// permutations are left to `store show --json`: thousands of indices are no
// table cell.
func (rec *Record) Describe() *table.Table {
	t := &table.Table{Title: "recipe (merge --method " + rec.Method + ")", Header: []string{"field", "value"}}
	t.Add("method", rec.Method)
	t.Add("from", strings.Join(rec.From, ", "))
	if rec.Method == "random" || rec.Method == "search" || rec.Seed != 0 {
		t.Add("seed", fmt.Sprint(rec.Seed))
	}
	if rec.Method == "random" {
		t.Add("draw", fmt.Sprintf("%d (0-based, of --count)", rec.Draw))
		t.Add("any block", fmt.Sprint(rec.AnyBlock))
	}
	if rec.Splice != nil {
		t.Add("plan", rec.Splice.String())
	}
	if rec.RecipeFile != "" {
		t.Add("recipe file", rec.RecipeFile)
	}
	if rec.RecipeText != "" {
		t.Add("recipe text", strings.TrimRight(rec.RecipeText, "\n"))
	}
	if s := rec.Soup; s != nil {
		t.Add("ingredients", fmt.Sprintf("%d: %s", len(s.Ingredients), strings.Join(s.Ingredients, ", ")))
		for _, st := range s.Steps {
			verdict := "dropped"
			if st.Kept {
				verdict = "kept"
			}
			t.Add("candidate "+st.Model, fmt.Sprintf("%s: alone %s, soup with it %s", verdict, percent(st.Alone), percent(st.WithIt)))
		}
		if s.Greedy {
			t.Add("soup validation score", percent(s.Score))
		}
	}
	if s := rec.Search; s != nil {
		o := s.Options
		t.Add("search options", fmt.Sprintf("stem and head of %s, depth %d..%d, population %d, generations %d, seed %d",
			o.Stem, o.MinDepth, o.MaxDepth, o.Population, o.Generations, o.Seed))
		scored := func(name string, p ScoredPlan, test float64) {
			v := fmt.Sprintf("%s (validation %s", RefsString(p.Blocks), percent(p.Score))
			if test != 0 {
				v += ", test " + percent(test)
			}
			t.Add(name, v+")")
		}
		scored("baseline plan", s.Baseline, s.BaselineTest)
		scored("greedy plan", s.Greedy, s.GreedyTest)
		scored("best plan", s.Best, s.BestTest)
		t.Add("plans scored", fmt.Sprint(s.Scored))
	}
	if a := rec.Align; a != nil {
		t.Add("reference", a.Reference)
		for _, m := range a.Models {
			t.Add("aligned "+m.Source, fmt.Sprintf("as %s: weight cosine %.3f -> %.3f after %d iterations", m.Name, m.Before, m.After, m.Iterations))
		}
		if len(a.Models) > 0 {
			t.Add("permutations", "stored in the recipe: store show --json")
		}
	}
	if rec.Base != "" {
		t.Add("base", rec.Base)
	}
	if len(rec.Params) > 0 {
		t.Add("parameters", paramsString(rec.Params))
	}
	for i, ps := range rec.PerModel {
		if len(ps) > 0 && i < len(rec.From) {
			t.Add("parameters of "+rec.From[i], paramsString(ps))
		}
	}
	for _, task := range slices.Sorted(maps.Keys(rec.Heads)) {
		src := rec.Heads[task]
		if src == "" {
			src = "merged (no source owns it)"
		}
		t.Add("head of "+task, src)
	}
	for _, s := range rec.Slots {
		v := s.Method + " of " + RefsString(s.Sources)
		if s.Base != nil {
			v += " (base " + s.Base.String() + ")"
		}
		t.Add(fmt.Sprintf("slot %d", s.Slot), v)
	}
	if d := rec.Data; d != nil {
		labels := "images only, no labels"
		if d.Labels {
			labels = "images and labels"
		}
		t.Add("data", fmt.Sprintf("%d images of each source's %s split (%s)", d.Images, d.Split, labels))
	}
	if l := rec.Learned; l != nil {
		v := l.What
		if l.Objective != "" {
			v += fmt.Sprintf("; %s %.4g -> %.4g over %d steps", l.Objective, l.Start, l.Final, l.Steps)
		}
		t.Add("learned", v)
		for i, row := range l.Values {
			if i >= len(l.Rows) {
				break
			}
			cells := make([]string, len(row))
			for j, x := range row {
				col := fmt.Sprint(j)
				if j < len(l.Cols) {
					col = l.Cols[j]
				}
				cells[j] = fmt.Sprintf("%s=%.4g", col, x)
			}
			t.Add("learned "+l.Rows[i], strings.Join(cells, ", "))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(rec.Options)) {
		t.Add("option "+k, table.JSONCell(rec.Options[k]))
	}
	return t
}

// paramsString shows parameters as "density=0.5, lambda=1", by name.
func paramsString(ps map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(ps)) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, ps[k]))
	}
	return strings.Join(parts, ", ")
}

// RefsString shows a list of blocks as "a[0] b[2] ...".
func RefsString(refs []Ref) string {
	parts := make([]string, len(refs))
	for i, r := range refs {
		parts[i] = r.String()
	}
	return strings.Join(parts, " ")
}

func percent(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }
