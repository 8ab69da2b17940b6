package sweep

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/plot"
	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/table"
)

// AverageTask is the Task of a row averaging every task of its group.
const AverageTask = "avg"

// MethodRow summarises one configuration (or reference row) of a
// merge-methods sweep on one task, or on the average of the tasks, under
// one kind of order.
type MethodRow struct {
	Group   string  `json:"group"`
	Variant string  `json:"variant"`
	Order   string  `json:"order"` // sequential or random
	Method  string  `json:"method"`
	Param   string  `json:"param,omitempty"`
	Value   float64 `json:"value,omitempty"`
	Task    string  `json:"task"` // "" on a same-task population; AverageTask for the average
	stats.Summary
	// Normalized is the mean over the individual's mean on the same task and
	// order (FusionBench's normalised accuracy; the individual is the best
	// member on a same-task population); on the average row the mean of the
	// tasks' ratios. 0 when there is no individual.
	Normalized float64 `json:"normalized"`
}

// Label names the row's configuration as MethodConfig.Label does.
func (r MethodRow) Label() string {
	return MethodConfig{Method: r.Method, Param: r.Param, Value: r.Value}.Label()
}

type methodKey struct {
	group, order, label, task string
}

// SummarizeMethods turns the samples of a merge-methods sweep into rows:
// per group, order, configuration and task, then the average over the
// tasks (when the group has several), in the order they first appear. On a
// same-task population the members' rows are joined into one individual
// row, and the member best in sequential order gives the best-individual
// row.
func SummarizeMethods(d *Document) []MethodRow {
	var keys []methodKey
	values := map[methodKey][]float64{}
	proto := map[methodKey]MethodRow{}
	tasks := map[string][]string{} // per group, in order of appearance
	bestOf := map[string]map[string][]float64{}
	add := func(k methodKey, r MethodRow, acc float64) {
		if _, ok := values[k]; !ok {
			keys = append(keys, k)
			proto[k] = r
		}
		values[k] = append(values[k], acc)
	}
	for _, s := range d.Samples {
		if !contains(tasks[s.Group], s.Task) {
			tasks[s.Group] = append(tasks[s.Group], s.Task)
		}
		r := MethodRow{Group: s.Group, Variant: s.Variant, Order: s.Kind, Method: s.Method, Param: s.Param, Value: s.Value, Task: s.Task}
		add(methodKey{s.Group, s.Kind, r.Label(), s.Task}, r, s.Acc)
		if s.Method == RoleIndividual && s.Task == "" && s.Kind == "sequential" {
			if bestOf[s.Group] == nil {
				bestOf[s.Group] = map[string][]float64{}
			}
			bestOf[s.Group][s.Model] = append(bestOf[s.Group][s.Model], s.Acc)
		}
	}
	// The best member of a same-task population, by sequential accuracy.
	best := map[string]string{}
	for g, byModel := range bestOf {
		bestMean := -1.0
		for _, s := range d.Samples {
			if s.Group != g || s.Method != RoleIndividual || s.Kind != "sequential" {
				continue
			}
			if m := stats.Summarise(byModel[s.Model]).Mean; m > bestMean {
				best[g], bestMean = s.Model, m
			}
		}
	}
	for _, s := range d.Samples {
		if b, ok := best[s.Group]; ok && s.Method == RoleIndividual && s.Model == b {
			r := MethodRow{Group: s.Group, Variant: s.Variant, Order: s.Kind, Method: RoleBest, Task: s.Task}
			add(methodKey{s.Group, s.Kind, RoleBest, s.Task}, r, s.Acc)
		}
	}
	rows := make([]MethodRow, 0, len(keys))
	index := map[methodKey]int{}
	for _, k := range keys {
		r := proto[k]
		r.Summary = clipped(stats.Summarise(values[k]))
		index[k] = len(rows)
		rows = append(rows, r)
	}
	// Normalised accuracy per task.
	individual := func(g string) string {
		if _, ok := best[g]; ok {
			return RoleBest
		}
		return RoleIndividual
	}
	for i, r := range rows {
		if j, ok := index[methodKey{r.Group, r.Order, individual(r.Group), r.Task}]; ok && rows[j].Mean > 0 {
			rows[i].Normalized = r.Mean / rows[j].Mean
		}
	}
	// The average over the tasks, for groups with several.
	var avg []MethodRow
	seen := map[methodKey]bool{}
	for _, k := range keys {
		ts := tasks[k.group]
		ak := methodKey{k.group, k.order, k.label, AverageTask}
		if len(ts) < 2 || seen[ak] {
			continue
		}
		seen[ak] = true
		var per [][]float64
		var norm []float64
		for _, t := range ts {
			j, ok := index[methodKey{k.group, k.order, k.label, t}]
			if !ok {
				continue
			}
			per = append(per, values[methodKey{k.group, k.order, k.label, t}])
			norm = append(norm, rows[j].Normalized)
		}
		if len(per) < len(ts) {
			continue // not measured on every task (a pretrained row of one task)
		}
		r := proto[k]
		r.Task = AverageTask
		r.Summary = clipped(stats.Summarise(alignedMeans(per)))
		r.Normalized = stats.Summarise(norm).Mean
		avg = append(avg, r)
	}
	return orderMethodRows(append(rows, avg...))
}

// clipped bounds the interval of an accuracy to [0, 1].
func clipped(s stats.Summary) stats.Summary {
	s.Low, s.High = max(s.Low, 0), min(s.High, 1)
	return s
}

// alignedMeans averages the i-th values of every list (the same merge seed
// and order on every task); lists of different lengths give the mean of
// their means alone.
func alignedMeans(per [][]float64) []float64 {
	n := len(per[0])
	for _, xs := range per {
		if len(xs) != n {
			var means []float64
			for _, ys := range per {
				means = append(means, stats.Summarise(ys).Mean)
			}
			return []float64{stats.Summarise(means).Mean}
		}
	}
	out := make([]float64, n)
	for i := range out {
		for _, xs := range per {
			out[i] += xs[i]
		}
		out[i] /= float64(len(per))
	}
	return out
}

// orderMethodRows puts the rows by group, then order (sequential first),
// then configuration, each in order of first appearance, and within a
// configuration the tasks before their average.
func orderMethodRows(rows []MethodRow) []MethodRow {
	rank := func(m map[string]int, k string) {
		if _, ok := m[k]; !ok {
			m[k] = len(m)
		}
	}
	groups, orders, labels := map[string]int{}, map[string]int{"sequential": 0}, map[string]int{}
	for _, r := range rows {
		rank(groups, r.Group)
		rank(orders, r.Order)
		rank(labels, r.Label())
	}
	slices.SortStableFunc(rows, func(a, b MethodRow) int {
		switch {
		case a.Group != b.Group:
			return groups[a.Group] - groups[b.Group]
		case a.Order != b.Order:
			return orders[a.Order] - orders[b.Order]
		case a.Label() != b.Label():
			return labels[a.Label()] - labels[b.Label()]
		}
		return boolRank(a.Task == AverageTask) - boolRank(b.Task == AverageTask)
	})
	return rows
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// MethodTables renders the summary: for people, one row per group, order
// and configuration with a column per task, the average and the normalised
// accuracy; as data (CSV), one row per task in long form.
func MethodTables(d *Document, rows []MethodRow) (display, data *table.Table) {
	o := d.Options
	title := fmt.Sprintf("merge methods (%s split; sequential and %d random orders; random methods over %d seeds; normalized = merged / individual)",
		o.Split, o.Orders, o.Seeds)
	if d.Shard != nil {
		title += fmt.Sprintf(" [shard %d/%d]", d.Shard.Index, d.Shard.Count)
	}
	if len(d.Failed) > 0 {
		title += fmt.Sprintf(" [could not merge: %s]", strings.Join(d.Failed, "; "))
	}
	var taskCols []string
	for _, r := range rows {
		if r.Task != AverageTask && !contains(taskCols, r.Task) {
			taskCols = append(taskCols, r.Task)
		}
	}
	header := []string{"population", "variant", "order", "method"}
	for _, t := range taskCols {
		if t == "" {
			t = "accuracy"
		}
		header = append(header, t)
	}
	multi := len(taskCols) > 1
	if multi {
		header = append(header, "avg")
	}
	header = append(header, "CI95", "normalized")
	display = &table.Table{Title: title, Header: header}
	data = &table.Table{Header: []string{"population", "variant", "order", "method", "param", "value", "task", "n", "mean", "std", "min", "max", "ci95_low", "ci95_high", "normalized"}}
	pct := func(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) }
	type line struct{ group, order, label string }
	var lines []line
	cells := map[line]map[string]MethodRow{}
	for _, r := range rows {
		l := line{r.Group, r.Order, r.Label()}
		if cells[l] == nil {
			lines = append(lines, l)
			cells[l] = map[string]MethodRow{}
		}
		cells[l][r.Task] = r
		value := ""
		if r.Param != "" {
			value = strconv.FormatFloat(r.Value, 'g', -1, 64)
		}
		data.Add(r.Group, r.Variant, r.Order, r.Method, r.Param, value, r.Task, fmt.Sprint(r.N),
			num(r.Mean), num(r.Std), num(r.Min), num(r.Max), num(r.Low), num(r.High), num(r.Normalized))
	}
	for _, l := range lines {
		c := cells[l]
		var any MethodRow
		for _, r := range c {
			any = r
			break
		}
		row := []string{l.group, any.Variant, l.order, l.label}
		for _, t := range taskCols {
			if r, ok := c[t]; ok {
				row = append(row, pct(r.Mean))
			} else {
				row = append(row, "")
			}
		}
		summary, ok := c[AverageTask]
		if !multi || !ok {
			summary, ok = c[taskCols[0]]
			if multi {
				ok = false
			}
		}
		if multi {
			if ok {
				row = append(row, pct(summary.Mean))
			} else {
				row = append(row, "")
			}
		}
		switch {
		case !ok:
			row = append(row, "", "")
		default:
			ci := ""
			if summary.High-summary.Low > 1e-9 { // not a spread of rounding noise (seeds that draw alike)
				ci = fmt.Sprintf("%s .. %s", pct(summary.Low), pct(summary.High))
			}
			nz := ""
			if summary.Normalized > 0 {
				nz = pct(summary.Normalized)
			}
			row = append(row, ci, nz)
		}
		display.Add(row...)
	}
	return display, data
}

// MethodFigure draws, per population and grid parameter, the accuracy
// averaged over the tasks against the parameter's value, one curve per
// method and order with its 95% band.
func MethodFigure(d *Document, rows []MethodRow) *plot.Figure {
	f := &plot.Figure{}
	multi := map[string]bool{}
	for _, r := range rows {
		if r.Task == AverageTask {
			multi[r.Group] = true
		}
	}
	for _, r := range rows {
		if r.Param == "" || (multi[r.Group] && r.Task != AverageTask) {
			continue
		}
		title := fmt.Sprintf("%s (%s): accuracy against %s", r.Group, r.Variant, r.Param)
		if r.Method == "nearswap" {
			title += " (nearswap)" // its t is a distance threshold, orders of magnitude below slerp's
		}
		p := panelNamed(f, title)
		p.XLabel = r.Param
		p.YLabel = fmt.Sprintf("accuracy on the %s split (%%)", d.Options.Split)
		if multi[r.Group] {
			p.YLabel = fmt.Sprintf("average accuracy over the tasks, %s split (%%)", d.Options.Split)
		}
		p.YMin, p.YMax = 0, 100
		s := seriesNamed(p, fmt.Sprintf("%s (%s)", r.Method, r.Order))
		s.X, s.Y = append(s.X, r.Value), append(s.Y, 100*r.Mean)
		s.Low, s.High = append(s.Low, 100*r.Low), append(s.High, 100*r.High)
	}
	return f
}

func panelNamed(f *plot.Figure, title string) *plot.Panel {
	for i := range f.Panels {
		if f.Panels[i].Title == title {
			return &f.Panels[i]
		}
	}
	f.Panels = append(f.Panels, plot.Panel{Title: title})
	return &f.Panels[len(f.Panels)-1]
}

func seriesNamed(p *plot.Panel, name string) *plot.Series {
	for i := range p.Series {
		if p.Series[i].Name == name {
			return &p.Series[i]
		}
	}
	p.Series = append(p.Series, plot.Series{Name: name})
	return &p.Series[len(p.Series)-1]
}
