package study

import (
	"fmt"
	"io"
	"time"

	"github.com/frankenvit/frankenvit/table"
)

// wallClock times the steps of a study run, one log line per step.
type wallClock struct {
	study string
	log   io.Writer
	start time.Time
	last  time.Time
	steps []wallStep
}

type wallStep struct {
	kind, name string
	took       time.Duration
}

func newWallClock(study string, log io.Writer) *wallClock {
	now := time.Now()
	return &wallClock{study: study, log: log, start: now, last: now}
}

// done ends the step that began when the previous one ended.
func (w *wallClock) done(kind, name string) {
	now := time.Now()
	st := wallStep{kind: kind, name: name, took: now.Sub(w.last)}
	w.last = now
	w.steps = append(w.steps, st)
	fmt.Fprintf(w.log, "study %s: %s %s done in %s (%s since the start)\n", w.study, kind, name,
		st.took.Round(time.Second), now.Sub(w.start).Round(time.Second))
}

// table lists the steps and the total, in seconds.
func (w *wallClock) table() *table.Table {
	t := &table.Table{Title: "wall time of the study's steps", Header: []string{"step", "name", "seconds"}}
	for _, st := range w.steps {
		t.Add(st.kind, st.name, fmt.Sprintf("%.1f", st.took.Seconds()))
	}
	t.Add("total", "", fmt.Sprintf("%.1f", w.last.Sub(w.start).Seconds()))
	return t
}
