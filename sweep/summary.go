package sweep

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/table"
)

// Row summarises the samples of one group, kind and depth.
type Row struct {
	Group   string `json:"group"`
	Variant string `json:"variant"`
	Kind    string `json:"kind"`
	Removed int    `json:"removed"`           // depth: blocks removed
	Sources int    `json:"sources,omitempty"` // merge: source models mixed
	Blocks  int    `json:"blocks"`            // blocks run
	stats.Summary
}

// Summarize groups the samples by name given (or by model, when perModel),
// kind and number of removed blocks (or of sources), in the order the groups
// and kinds first appear, and summarises each; the 95% interval is clipped
// to [0, 1], the range of an accuracy.
func Summarize(d *Document, perModel bool) []Row {
	type key struct {
		group, kind string
		removed     int
	}
	var keys []key
	values := map[key][]float64{}
	variants := map[string][]string{}
	blocks := map[key]int{}
	groupRank, kindRank := map[string]int{}, map[string]int{}
	for _, s := range d.Samples {
		g := s.Group
		if perModel {
			g = s.Model
		}
		x := s.Removed
		if d.Sweep == Merge {
			x = s.Sources
		}
		k := key{g, s.Kind, x}
		if _, ok := values[k]; !ok {
			keys = append(keys, k)
		}
		values[k] = append(values[k], s.Acc)
		blocks[k] = len(s.Plan)
		if _, ok := groupRank[g]; !ok {
			groupRank[g] = len(groupRank)
		}
		if _, ok := kindRank[s.Kind]; !ok {
			kindRank[s.Kind] = len(kindRank)
		}
		if !contains(variants[g], s.Variant) {
			variants[g] = append(variants[g], s.Variant)
		}
	}
	sort.SliceStable(keys, func(a, b int) bool {
		x, y := keys[a], keys[b]
		if x.group != y.group {
			return groupRank[x.group] < groupRank[y.group]
		}
		if x.kind != y.kind {
			return kindRank[x.kind] < kindRank[y.kind]
		}
		return x.removed < y.removed
	})
	rows := make([]Row, len(keys))
	for i, k := range keys {
		rows[i] = Row{Group: k.group, Variant: strings.Join(variants[k.group], "+"), Kind: k.kind, Removed: k.removed,
			Blocks: blocks[k], Summary: stats.Summarise(values[k])}
		if d.Sweep == Merge {
			rows[i].Removed, rows[i].Sources = 0, k.removed
		}
		// Accuracies live in [0, 1]; so does the interval shown for them.
		rows[i].Low, rows[i].High = max(rows[i].Low, 0), min(rows[i].High, 1)
	}
	return rows
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// Tables renders the summary for people (percentages) and as data for CSV
// (fractions, full precision).
func Tables(d *Document, rows []Row) (display, data *table.Table) {
	o := d.Options
	var title string
	var header []string
	switch d.Sweep {
	case Orders:
		title = fmt.Sprintf("accuracy under block orders (%s split; random:%d; per-batch: one order per %d images, per-sample: one per image, %d repeats)",
			o.Split, o.Orders, o.OrderBatch, o.Repeats)
		header = []string{"model", "variant", "order", "n", "mean", "std", "min", "max", "CI95"}
	case Merge:
		slot := "slot i takes block i of its source"
		if o.AnyBlock {
			slot = "a slot takes any block of its source"
		}
		title = fmt.Sprintf("accuracy of random Frankenstein models against the number of source models mixed (%s split; %d draws each; %s)",
			o.Split, o.Draws, slot)
		header = []string{"model", "variant", "sources", "n", "mean", "std", "min", "max", "CI95"}
	default:
		title = fmt.Sprintf("accuracy against blocks removed (%s split; random: %d seeds per depth)", o.Split, o.Seeds)
		header = []string{"model", "variant", "strategy", "removed", "blocks", "n", "mean", "std", "min", "max", "CI95"}
	}
	if d.Shard != nil {
		title += fmt.Sprintf(" [shard %d/%d]", d.Shard.Index, d.Shard.Count)
	}
	display = &table.Table{Title: title, Header: header}
	dataHeader := append(append([]string{}, header[:len(header)-1]...), "ci95_low", "ci95_high")
	data = &table.Table{Header: dataHeader}
	pct := func(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }
	num := func(x float64) string { return strconv.FormatFloat(x, 'f', 6, 64) }
	for _, r := range rows {
		lead := []string{r.Group, r.Variant, r.Kind}
		if d.Sweep == Merge {
			lead = []string{r.Group, r.Variant, fmt.Sprint(r.Sources)}
		}
		if d.Sweep == Depth {
			lead = append(lead, fmt.Sprint(r.Removed), fmt.Sprint(r.Blocks))
		}
		lead = append(lead, fmt.Sprint(r.N))
		display.Add(append(append([]string{}, lead...), pct(r.Mean), pct(r.Std), pct(r.Min), pct(r.Max),
			fmt.Sprintf("%s .. %s", pct(r.Low), pct(r.High)))...)
		data.Add(append(append([]string{}, lead...), num(r.Mean), num(r.Std), num(r.Min), num(r.Max), num(r.Low), num(r.High))...)
	}
	return display, data
}

// DepthGrid is the depth summary for people: one row per model and strategy,
// one column per number of blocks removed, each cell the mean accuracy and
// the half-width of its 95% interval.
func DepthGrid(d *Document, rows []Row) *table.Table {
	maxRemoved := 0
	for _, r := range rows {
		maxRemoved = max(maxRemoved, r.Removed)
	}
	header := []string{"model", "variant", "strategy"}
	for k := 0; k <= maxRemoved; k++ {
		header = append(header, fmt.Sprint(k))
	}
	t := &table.Table{Title: fmt.Sprintf("accuracy (%s split) with 0..%d blocks removed: mean ± half-width of the 95%% interval (random: %d seeds per depth)",
		d.Options.Split, maxRemoved, d.Options.Seeds), Header: header}
	if d.Shard != nil {
		t.Title += fmt.Sprintf(" [shard %d/%d]", d.Shard.Index, d.Shard.Count)
	}
	var cur []string
	for i, r := range rows {
		if cur == nil || cur[0] != r.Group || cur[2] != r.Kind {
			cur = make([]string, len(header))
			cur[0], cur[1], cur[2] = r.Group, r.Variant, r.Kind
			for j := 3; j < len(cur); j++ {
				cur[j] = ""
			}
		}
		cell := fmt.Sprintf("%.2f", 100*r.Mean)
		if r.High > r.Low {
			cell += fmt.Sprintf(" ± %.2f", 100*(r.High-r.Mean))
		}
		cur[3+r.Removed] = cell
		if i == len(rows)-1 || rows[i+1].Group != r.Group || rows[i+1].Kind != r.Kind {
			t.Add(cur...)
		}
	}
	return t
}
