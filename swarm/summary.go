package swarm

import (
	"fmt"
	"strings"

	"github.com/frankenvit/frankenvit/plot"
	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/table"
)

// Summary is a run's numbers.
type Summary struct {
	Images       int     `json:"images"`
	Answered     int     `json:"answered"` // images with a prediction
	Correct      int     `json:"correct"`
	Accuracy     float64 `json:"accuracy"`       // correct / images: an unanswered image counts as wrong
	AnsweredOnce bool    `json:"answered_once"`  // every image has exactly one answer
	LatencyP50   float64 `json:"latency_p50_ms"` // per image: its batch's time in the swarm
	LatencyP99   float64 `json:"latency_p99_ms"`
	Throughput   float64 `json:"images_per_s"`
	BlocksRun    float64 `json:"blocks_run"`       // mean per image
	Skipping     int     `json:"batches_skipping"` // batches that skipped a block
	Late         int     `json:"late_answers_dropped"`
	Duplicate    int     `json:"duplicate_answers_dropped"`
	Unmatched    int     `json:"unmatched_answers_dropped"`
	WallS        float64 `json:"wall_s"`
}

// Summarise computes a run's summary.
func Summarise(r *Result) Summary {
	s := Summary{Images: len(r.Answers), Late: r.Late, Duplicate: r.Duplicate, Unmatched: r.Unmatched, WallS: r.Wall.Seconds()}
	s.AnsweredOnce = answeredOnce(r)
	var lat []float64
	var blocks float64
	for _, b := range r.Batches {
		for range b.Images {
			lat = append(lat, 1000*b.Latency())
		}
		if b.Error == "" {
			s.Answered += b.Images
		}
		s.Correct += b.Correct
		blocks += float64(len(b.Ran) * b.Images)
		if len(b.Skipped) > 0 {
			s.Skipping++
		}
	}
	if s.Images > 0 {
		s.Accuracy = float64(s.Correct) / float64(s.Images)
		s.BlocksRun = blocks / float64(s.Images)
	}
	if len(lat) > 0 {
		s.LatencyP50, s.LatencyP99 = stats.Quantile(lat, 0.5), stats.Quantile(lat, 0.99)
	}
	if s.WallS > 0 {
		s.Throughput = float64(s.Images) / s.WallS
	}
	return s
}

// answeredOnce checks that the batches cover every image exactly once and
// that every answer is filed under its own image.
func answeredOnce(r *Result) bool {
	count := make([]int, len(r.Answers))
	for _, b := range r.Batches {
		for i := b.First; i < b.First+b.Images; i++ {
			if i < 0 || i >= len(count) {
				return false
			}
			count[i]++
		}
	}
	for i, a := range r.Answers {
		if count[i] != 1 || a.Image != i {
			return false
		}
	}
	return true
}

// Window is the numbers of the batches that finished within one stretch
// of the run.
type Window struct {
	From       float64  `json:"from_s"`
	To         float64  `json:"to_s"`
	Images     int      `json:"images"`
	Accuracy   float64  `json:"accuracy"`
	LatencyP50 float64  `json:"latency_p50_ms"`
	LatencyP99 float64  `json:"latency_p99_ms"`
	BlocksRun  float64  `json:"blocks_run"`
	Events     []string `json:"events,omitempty"`
}

// Windows splits the run into n stretches of equal time by when batches
// finished, with the events that happened in each.
func Windows(r *Result, events []Event, n int) []Window {
	end := r.Wall.Seconds()
	if n < 1 || end <= 0 {
		return nil
	}
	ws := make([]Window, n)
	lats := make([][]float64, n)
	correct := make([]int, n)
	blocks := make([]float64, n)
	at := func(t float64) int { return min(n-1, max(0, int(t/end*float64(n)))) }
	for i := range ws {
		ws[i].From, ws[i].To = end*float64(i)/float64(n), end*float64(i+1)/float64(n)
	}
	for _, b := range r.Batches {
		w := at(b.End)
		ws[w].Images += b.Images
		correct[w] += b.Correct
		blocks[w] += float64(len(b.Ran) * b.Images)
		for range b.Images {
			lats[w] = append(lats[w], 1000*b.Latency())
		}
	}
	for i := range ws {
		if ws[i].Images > 0 { // an empty window keeps zeros (JSON has no NaN); tables show "-"
			ws[i].Accuracy = float64(correct[i]) / float64(ws[i].Images)
			ws[i].BlocksRun = blocks[i] / float64(ws[i].Images)
			ws[i].LatencyP50, ws[i].LatencyP99 = stats.Quantile(lats[i], 0.5), stats.Quantile(lats[i], 0.99)
		}
	}
	for _, e := range events {
		if e.Time >= 0 {
			w := at(e.Time)
			ws[w].Events = append(ws[w].Events, e.String())
		}
	}
	return ws
}

// WindowTable is the windows as a table.
func WindowTable(ws []Window) *table.Table {
	t := &table.Table{Header: []string{"from s", "to s", "images", "accuracy", "p50 ms", "p99 ms", "blocks run", "events"}}
	for _, w := range ws {
		ev := ""
		for i, e := range w.Events {
			if i > 0 {
				ev += "; "
			}
			ev += e
		}
		if w.Images == 0 {
			t.Add(fmt.Sprintf("%.1f", w.From), fmt.Sprintf("%.1f", w.To), "0", "-", "-", "-", "-", ev)
			continue
		}
		t.Add(fmt.Sprintf("%.1f", w.From), fmt.Sprintf("%.1f", w.To), fmt.Sprint(w.Images), percent(w.Accuracy),
			milliseconds(w.LatencyP50), milliseconds(w.LatencyP99), fmt.Sprintf("%.2f", w.BlocksRun), ev)
	}
	return t
}

// AnswerTable is one row per image: its label, the prediction (-1: none)
// and the plan its batch ran, under a model column (for tables of several
// runs).
func AnswerTable(model string, r *Result) *table.Table {
	t := &table.Table{Header: []string{"model", "image", "label", "prediction", "batch", "ran", "skipped"}}
	byID := make(map[int]*BatchRecord, len(r.Batches))
	for i := range r.Batches {
		byID[r.Batches[i].ID] = &r.Batches[i]
	}
	for _, a := range r.Answers {
		ran, skipped := "", ""
		if b := byID[a.Batch]; b != nil {
			ran, skipped = formatBlocks(b.Ran), formatBlocks(b.Skipped)
		}
		t.Add(model, fmt.Sprint(a.Image), fmt.Sprint(a.Label), fmt.Sprint(a.Prediction), fmt.Sprint(a.Batch), ran, skipped)
	}
	return t
}

// SummaryTable is one row per labelled summary.
func SummaryTable(labels []string, ss []Summary) *table.Table {
	t := &table.Table{Header: []string{"run", "images", "answered", "once", "accuracy", "p50 ms", "p99 ms", "images/s", "blocks run", "batches skipping", "late", "duplicate"}}
	for i, s := range ss {
		t.Add(labels[i], fmt.Sprint(s.Images), fmt.Sprint(s.Answered), fmt.Sprint(s.AnsweredOnce), percent(s.Accuracy),
			milliseconds(s.LatencyP50), milliseconds(s.LatencyP99), fmt.Sprintf("%.1f", s.Throughput),
			fmt.Sprintf("%.2f", s.BlocksRun), fmt.Sprint(s.Skipping), fmt.Sprint(s.Late), fmt.Sprint(s.Duplicate))
	}
	return t
}

// Figure draws accuracy and latency over time, one curve per labelled run,
// with each run's events marked on its accuracy curve.
func Figure(labels []string, runs [][]Window, events [][]Event) *plot.Figure {
	acc := plot.Panel{Title: "Accuracy over time", XLabel: "time (s)", YLabel: "accuracy (%)"}
	lat := plot.Panel{Title: "Latency over time", XLabel: "time (s)", YLabel: "p50 latency (ms)"}
	for i, ws := range runs {
		a := plot.Series{Name: labels[i]}
		l := plot.Series{Name: labels[i]}
		for _, w := range ws {
			if w.Images == 0 {
				continue
			}
			mid := (w.From + w.To) / 2
			a.X, a.Y = append(a.X, mid), append(a.Y, 100*w.Accuracy)
			l.X, l.Y = append(l.X, mid), append(l.Y, w.LatencyP50)
		}
		a.Low, a.High, l.Low, l.High = a.Y, a.Y, l.Y, l.Y
		acc.Series, lat.Series = append(acc.Series, a), append(lat.Series, l)
		if i < len(events) {
			if marks := eventMarks(labels[i], a, events[i]); len(marks.X) > 0 {
				acc.Series = append(acc.Series, marks)
			}
		}
	}
	return &plot.Figure{Panels: []plot.Panel{acc, lat}}
}

// eventMarks places a run's events on its accuracy curve, at the accuracy
// of the nearest window before them.
func eventMarks(label string, curve plot.Series, events []Event) plot.Series {
	m := plot.Series{PointsOnly: true}
	var names []string
	for _, e := range events {
		if e.Time < 0 || len(curve.X) == 0 {
			continue
		}
		names = append(names, e.String())
		y := curve.Y[0]
		for j, x := range curve.X {
			if x <= e.Time {
				y = curve.Y[j]
			}
		}
		m.X, m.Y = append(m.X, e.Time), append(m.Y, y)
	}
	m.Name = label + ": " + strings.Join(names, ", ")
	m.Low, m.High = m.Y, m.Y
	return m
}

func percent(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }

func milliseconds(x float64) string { return fmt.Sprintf("%.1f", x) }
