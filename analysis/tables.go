package analysis

import (
	"fmt"
	"math"
	"strconv"

	"github.com/frankenvit/frankenvit/table"
)

// NamedTable is one table of a report with a short name for its file.
// A Wide table (the full CKA matrix) is written but not printed.
type NamedTable struct {
	Name  string
	Table *table.Table
	Wide  bool
}

// Tables lays the report out as tables: accuracies in percent, changes in
// percentage points or nats, "-" where a cell has no data.
func (r *Report) Tables() []NamedTable {
	L := r.Depth
	var out []NamedTable
	add := func(name string, t *table.Table) { out = append(out, NamedTable{Name: name, Table: t}) }

	slots := &table.Table{Title: fmt.Sprintf("%s: per slot, %d images, %d random orders (accuracy %%; skip = change when "+
		"the block at that slot is replaced by the identity)", r.Model, r.Images, len(r.Orders)),
		Header: append([]string{"measure", "stem"}, labels("slot ", L)...)}
	c, ln := r.Contribution, r.Lens
	slots.Add(append([]string{"lens, sequential", pct(ln.Stem)}, mapf(ln.Sequential, pct)...)...)
	slots.Add(append([]string{"lens, random (mean)", pct(ln.Stem)}, mapf(ln.Random, pct)...)...)
	slots.Add(append([]string{"lens, random (std)", ""}, mapf(ln.RandomStd, pct)...)...)
	slots.Add(append([]string{"skip: accuracy drop, sequential (points)", ""}, mapf(c.SequentialAccuracy, points)...)...)
	slots.Add(append([]string{"skip: accuracy drop, random (points)", ""}, mapf(c.SlotAccuracy, points)...)...)
	slots.Add(append([]string{"skip: loss rise, sequential (nats)", ""}, mapf(c.SequentialLoss, nats)...)...)
	slots.Add(append([]string{"skip: loss rise, random (nats)", ""}, mapf(c.SlotLoss, nats)...)...)
	add("slots", slots)

	add("contribution-accuracy", gridTable(fmt.Sprintf("%s: accuracy drop when the block is skipped, block x slot "+
		"(points; mean over the random orders, whose accuracy is %s%%)", r.Model, pct(c.OrderAccuracy)), c.Accuracy, points, true))
	add("contribution-loss", gridTable(r.Model+": loss rise when the block is skipped, block x slot (nats per image)",
		c.Loss, nats, true))
	add("lens-blocks", gridTable(r.Model+": logit lens, accuracy after the block at that slot (%, random orders)",
		ln.BlockSlot, pct, true))
	if r.Head != nil {
		add("head", slotTable(r.Model+": the blocks' own position heads", r.Head, L))
		add("head-confusion", confusionTable(r.Model+": position heads", r.Head))
	}
	if r.Probe != nil {
		add("probe", slotTable(fmt.Sprintf("%s: linear slot probe on the blocks' outputs (%s), %d%% of the images held out",
			r.Model, r.Feature, int(math.Round(100*r.Holdout))), r.Probe, L))
		add("probe-confusion", confusionTable(r.Model+": linear slot probe", r.Probe))
	}

	cka := &table.Table{Title: fmt.Sprintf("%s: linear CKA of the blocks' outputs (%s) on %d images", r.Model, r.Feature,
		r.CKA.Images), Header: append(append([]string{"mean CKA between"}, labels("", L)...), "mean")}
	cka.Add(append(append([]string{"block i at two different slots"}, mapf(r.CKA.SameBlock, two)...), two(mean(r.CKA.SameBlock)))...)
	cka.Add(append(append([]string{"two different blocks at slot i"}, mapf(r.CKA.SameSlot, two)...), two(mean(r.CKA.SameSlot)))...)
	add("cka", cka)
	full := gridTable(r.Model+": linear CKA, every (block, slot) cell against every other", r.CKA.Matrix, three, false)
	out = append(out, NamedTable{Name: "cka-matrix", Table: full, Wide: true})

	pca := &table.Table{Title: fmt.Sprintf("%s: 2-D PCA of each block's outputs (%s): percent of the variance on each axis; "+
		"slot share = part of the plane's variance between the slot means; centred = each image's mean over the slots "+
		"removed first", r.Model, r.Feature),
		Header: []string{"block", "first axis", "second axis", "slot share", "centred first axis",
			"centred second axis", "centred slot share"}}
	for _, p := range r.PCA {
		pca.Add(strconv.Itoa(p.Block), pct(p.Outputs.Explained[0]), pct(p.Outputs.Explained[1]), two(p.Outputs.SlotShare),
			pct(p.Centred.Explained[0]), pct(p.Centred.Explained[1]), two(p.Centred.SlotShare))
	}
	add("pca", pca)
	return out
}

// gridTable lays a grid out with its row labels first, and a mean column.
func gridTable(title string, g Grid, f func(float64) string, withMean bool) *table.Table {
	header := append([]string{""}, g.Cols...)
	if withMean {
		header = append(header, "mean")
	}
	t := &table.Table{Title: title, Header: header}
	for i, row := range g.Values {
		cells := append([]string{g.Rows[i]}, mapf(row, f)...)
		if withMean {
			cells = append(cells, f(mean(row)))
		}
		t.Add(cells...)
	}
	return t
}

func slotTable(title string, sp *SlotPrediction, L int) *table.Table {
	t := gridTable(fmt.Sprintf("%s: accuracy of the predicted slot, block x true slot (%%; chance %s%%; all: %s%% of %d)",
		title, pct(1/float64(L)), pct(sp.Accuracy), sp.Samples), sp.BlockSlot, pct, false)
	t.Header = append(t.Header, "all slots")
	for b := range t.Rows {
		t.Rows[b] = append(t.Rows[b], pct(sp.BlockAccuracy[b]))
	}
	t.Add(append(append([]string{"all blocks"}, mapf(sp.SlotAccuracy, pct)...), pct(sp.Accuracy))...)
	return t
}

// confusionTable shows each true slot's predictions as percentages of its row.
func confusionTable(title string, sp *SlotPrediction) *table.Table {
	g := NewGrid(sp.Confusion.Rows, sp.Confusion.Cols)
	for s, row := range sp.Confusion.Values {
		var total float64
		for _, v := range row {
			total += v
		}
		for p, v := range row {
			if total > 0 {
				g.Values[s][p] = v / total
			}
		}
	}
	return gridTable(title+": confusion, true slot x predicted slot (% of the row)", g, pct, false)
}

func mapf(xs []float64, f func(float64) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

// mean of the finite entries (NaN if there is none).
func mean(xs []float64) float64 {
	var sum float64
	n := 0
	for _, x := range xs {
		if !math.IsNaN(x) {
			sum += x
			n++
		}
	}
	if n == 0 {
		return math.NaN()
	}
	return sum / float64(n)
}

func pct(x float64) string    { return format(x, 100, "%.1f") }
func points(x float64) string { return format(x, 100, "%+.2f") }
func nats(x float64) string   { return format(x, 1, "%+.4f") }
func two(x float64) string    { return format(x, 1, "%.2f") }
func three(x float64) string  { return format(x, 1, "%.3f") }

func format(x, scale float64, verb string) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return fmt.Sprintf(verb, scale*x)
}
