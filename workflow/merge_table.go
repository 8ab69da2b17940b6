package workflow

import (
	"fmt"
	"strings"

	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/table"
)

// MergeTables renders a merge: one row per source and per merged model,
// then the mean and standard deviation of each group.
func MergeTables(out *MergeOutcome) []*table.Table {
	random := "test acc " + out.Orders
	if out.Orders == "" {
		random = "test acc random"
	}
	rows := &table.Table{Title: fmt.Sprintf("merge %s (%s, %s)", out.Out, out.Method, out.Data),
		Header: []string{"model", "role", "plan", "val acc", "test acc sequential", random}}
	// Plans name the sources; without their common prefix they fit a terminal.
	var sourceNames []string
	for _, m := range out.Sources {
		sourceNames = append(sourceNames, m.Name)
	}
	prefix := commonPrefix(sourceNames)
	shorten := func(plan string) string {
		if prefix == "" {
			return plan
		}
		return strings.ReplaceAll(plan, prefix, "")
	}
	if prefix != "" {
		rows.Title += ", plans without the prefix " + prefix
	}
	for _, group := range [][]MergedModel{out.Sources, out.Merged} {
		for _, m := range group {
			rows.Add(m.Name, m.Role, shorten(m.Plan), accCell(m.Evaluated, m.ValAccuracy), accCell(m.Evaluated, m.TestSequential),
				accStdCell(m.Evaluated && out.Orders != "", m.TestRandom, m.TestRandomStd))
		}
	}
	tables := []*table.Table{rows}
	if len(out.Merged) > 0 && out.Merged[0].Evaluated {
		sum := &table.Table{Title: "mean ± standard deviation over models",
			Header: []string{"group", "models", "val acc", "test acc sequential", random + " (mean of means)"}}
		for _, g := range []struct {
			name   string
			models []MergedModel
		}{{"sources", out.Sources}, {"merged", out.Merged}} {
			val, seq, rnd := column(g.models, func(m MergedModel) float64 { return m.ValAccuracy }),
				column(g.models, func(m MergedModel) float64 { return m.TestSequential }),
				column(g.models, func(m MergedModel) float64 { return m.TestRandom })
			r := "-"
			if out.Orders != "" {
				r = meanStdCell(rnd)
			}
			sum.Add(g.name, fmt.Sprint(len(g.models)), meanStdCell(val), meanStdCell(seq), r)
		}
		tables = append(tables, sum)
	}
	if r := out.Search; r != nil {
		t := &table.Table{Title: fmt.Sprintf("search on the validation split (stem and head of %s, %d plans scored)", r.Options.Stem, r.Scored),
			Header: []string{"plan", "blocks", "depth", "val acc", "test acc (after the search)"}}
		for _, row := range []struct {
			what string
			p    merge.ScoredPlan
			test float64
		}{{"the stem model's own", r.Baseline, r.BaselineTest}, {"greedy forward selection", r.Greedy, r.GreedyTest},
			{"best found (stored)", r.Best, r.BestTest}} {
			if len(row.p.Blocks) == 0 {
				continue
			}
			t.Add(row.what, shorten(merge.RefsString(row.p.Blocks)), fmt.Sprint(len(row.p.Blocks)), accCell(true, row.p.Score), accCell(true, row.test))
		}
		tables = append(tables, t)
		if len(r.Generations) > 0 {
			g := &table.Table{Title: "evolution", Header: []string{"generation", "best val acc", "mean val acc", "new plans"}}
			for _, st := range r.Generations {
				g.Add(fmt.Sprint(st.Generation), accCell(true, st.Best), accCell(true, st.Mean), fmt.Sprint(st.New))
			}
			tables = append(tables, g)
		}
	}
	if r := out.Soup; r != nil && r.Greedy {
		t := &table.Table{Title: "greedy soup (validation accuracy)", Header: []string{"candidate", "alone", "soup with it", "kept"}}
		for _, st := range r.Steps {
			kept := "no"
			if st.Kept {
				kept = "yes"
			}
			t.Add(st.Model, accCell(true, st.Alone), accCell(true, st.WithIt), kept)
		}
		tables = append(tables, t)
	}
	return tables
}

func column(ms []MergedModel, f func(MergedModel) float64) []float64 {
	out := make([]float64, len(ms))
	for i, m := range ms {
		out[i] = f(m)
	}
	return out
}

func meanStdCell(xs []float64) string {
	if len(xs) == 0 {
		return "-"
	}
	m, s := stats.MeanStd(xs)
	return fmt.Sprintf("%.2f%% ± %.2f%%", 100*m, 100*s)
}

func accCell(ok bool, x float64) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*x)
}

func accStdCell(ok bool, x, std float64) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.2f%% ± %.2f%%", 100*x, 100*std)
}
