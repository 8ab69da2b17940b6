package workflow

import (
	"fmt"

	"github.com/frankenvit/frankenvit/plot"
	"github.com/frankenvit/frankenvit/swarm"
	"github.com/frankenvit/frankenvit/table"
)

// SwarmAnswers is every image's answer of the runs, one block of rows per
// model (swarm.AnswerTable's columns).
func SwarmAnswers(outs []*SwarmOutcome) *table.Table {
	var t *table.Table
	for _, o := range outs {
		a := swarm.AnswerTable(o.Model, o.Result)
		if t == nil {
			t = a
		} else {
			t.Rows = append(t.Rows, a.Rows...)
		}
	}
	return t
}

// SwarmBenchWindows is every run's windows over time, one block of rows per
// model.
func SwarmBenchWindows(outs []*SwarmBenchOutcome) *table.Table {
	var t *table.Table
	for _, o := range outs {
		w := swarm.WindowTable(o.Windows)
		if t == nil {
			t = &table.Table{Header: append([]string{"model"}, w.Header...)}
		}
		for _, row := range w.Rows {
			t.Add(append([]string{o.Model}, row...)...)
		}
	}
	return t
}

// SwarmBenchSummary is each model's run with local evaluation of the same
// plan beside it.
func SwarmBenchSummary(outs []*SwarmBenchOutcome) *table.Table {
	var sum *table.Table
	for _, o := range outs {
		t := swarm.SummaryTable([]string{o.Model + " swarm"}, []swarm.Summary{o.Summary})
		if sum == nil {
			sum = t
		} else {
			sum.Rows = append(sum.Rows, t.Rows...)
		}
		if l := o.Local; l != nil {
			sum.Add(o.Model+" local eval", fmt.Sprint(o.Images), fmt.Sprint(o.Images), "true", fmt.Sprintf("%.2f%%", 100*l.Accuracy),
				"", "", fmt.Sprintf("%.1f", l.ImagesPerS), fmt.Sprint(len(l.Plan)), "", "", "")
		}
	}
	return sum
}

// SwarmBenchFigure draws every run's accuracy and latency over time, events
// marked, one line per model.
func SwarmBenchFigure(outs []*SwarmBenchOutcome) *plot.Figure {
	var labels []string
	var runs [][]swarm.Window
	var events [][]swarm.Event
	for _, o := range outs {
		labels, runs, events = append(labels, o.Model+" "+o.Order), append(runs, o.Windows), append(events, o.Events)
	}
	return swarm.Figure(labels, runs, events)
}
