package study

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/internal/durable"
	"github.com/frankenvit/frankenvit/report"
	"github.com/frankenvit/frankenvit/sweep"
	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/workflow"
)

// Result is what a study produced: the headline tables and where the
// report is.
type Result struct {
	Tables []*table.Table
	Report string
}

// Run executes a checked study: trains the populations (finished members are
// skipped), builds the merges that are not in the store yet or whose entry
// or sources changed since the study built them (see runMerge), runs the
// sweeps and analyses whose results are not in out with the same options
// and the same weights of the models they measure, and
// writes every table as CSV, every sweep as JSON, CSV, SVG and PNG, every
// analysis into out/analysis-MODEL/ (analysis.json, a CSV per table, each
// figure as SVG and PNG), and out/report.html.
func Run(s *checkpoint.Store, plan *Plan, out string, log io.Writer) (*Result, error) {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return nil, fmt.Errorf("study output folder: %v", err)
	}
	rep := &report.Report{Title: "frankenvit study " + plan.Name, Source: plan.Source, Text: string(plan.Text), Versions: Versions()}
	res := &Result{Report: filepath.Join(out, "report.html")}
	wall := newWallClock(plan.Name, log)
	var popTables []*table.Table
	for _, req := range plan.Populations {
		req.Log, req.Base.Log = log, log
		fmt.Fprintf(log, "study %s: population %s\n", plan.Name, req.Prefix)
		sum, err := workflow.Population(s, req)
		if err != nil {
			return nil, fmt.Errorf("population %s: %w", req.Prefix, err)
		}
		wall.done("population", req.Prefix)
		popTables = append(popTables, workflow.PopulationTables(sum)...)
	}
	if len(popTables) > 0 {
		rep.Sections = append(rep.Sections, report.Section{Heading: "Populations", Tables: popTables,
			Text: "Each population: a parent, then members fine-tuned from it with their own seeds. Validation accuracy under the variant's own orders; test accuracy sequential and under random orders (mean ± std over the orders)."})
		res.Tables = append(res.Tables, popTables...)
	}
	var mergeTables []*table.Table
	for _, req := range plan.Merges {
		req.Log = log
		outcome, err := runMerge(s, req, filepath.Join(out, "merge-"+req.Out+".json"), log)
		if err != nil {
			return nil, fmt.Errorf("merge %s: %w", req.Out, err)
		}
		wall.done("merge", req.Out)
		mergeTables = append(mergeTables, workflow.MergeTables(outcome)...)
	}
	if len(mergeTables) > 0 {
		rep.Sections = append(rep.Sections, report.Section{Heading: "Merges", Tables: mergeTables})
		res.Tables = append(res.Tables, mergeTables...)
	}
	for _, job := range plan.Sweeps {
		sec, display, err := runSweep(s, job, out, log)
		if err != nil {
			return nil, fmt.Errorf("sweep %s: %w", job.ID, err)
		}
		wall.done("sweep", job.ID)
		rep.Sections = append(rep.Sections, *sec)
		res.Tables = append(res.Tables, display)
	}
	for _, job := range plan.Analyses {
		sec, headline, err := runAnalysis(s, job, out, log)
		if err != nil {
			return nil, fmt.Errorf("analysis %d (%s): %w", job.Entry, job.Req.Name, err)
		}
		wall.done("analysis", job.Req.Name)
		rep.Sections = append(rep.Sections, *sec)
		res.Tables = append(res.Tables, headline...)
	}
	for i, t := range res.Tables {
		var b bytes.Buffer
		if err := t.WriteCSV(&b); err != nil {
			return nil, err
		}
		if err := durable.WriteFile(filepath.Join(out, fmt.Sprintf("table-%02d.csv", i+1)), b.Bytes()); err != nil {
			return nil, err
		}
	}
	if err := durable.WriteFile(filepath.Join(out, "study.yaml"), plan.Text); err != nil {
		return nil, err
	}
	timings := wall.table()
	var tb bytes.Buffer
	if err := timings.WriteCSV(&tb); err != nil {
		return nil, err
	}
	if err := durable.WriteFile(filepath.Join(out, "timings.csv"), tb.Bytes()); err != nil {
		return nil, err
	}
	rep.Sections = append(rep.Sections, report.Section{Heading: "Wall time", Tables: []*table.Table{timings},
		Text: "Wall time of each step of this run (a step whose results were already in the store or the output folder takes next to nothing)."})
	rep.Generated = time.Now()
	var b bytes.Buffer
	if err := rep.WriteHTML(&b); err != nil {
		return nil, err
	}
	if err := durable.WriteFile(res.Report, b.Bytes()); err != nil {
		return nil, err
	}
	return res, nil
}

// runSweep runs a sweep unless out holds its results with the same options,
// of the same weights (sweepkey.go).
func runSweep(s *checkpoint.Store, job SweepJob, out string, log io.Writer) (*report.Section, *table.Table, error) {
	stem := filepath.Join(out, "sweep-"+job.ID)
	job.Req.Log = log
	weights, err := sweepWeights(s, job.Req.Options)
	if err != nil {
		return nil, nil, err
	}
	weightsPath := stem + ".weights.json"
	var doc *sweep.Document
	if old, err := sweep.ReadDocument(stem + ".json"); err == nil && sameOptions(old.Options, job.Req.Options) && old.Shard == nil &&
		sameSweepWeights(weightsPath, weights) {
		fmt.Fprintf(log, "sweep %s: results in %s.json\n", job.ID, stem)
		doc = old
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	} else {
		fmt.Fprintf(log, "sweep %s: %s of %v\n", job.ID, job.Req.Kind, job.Req.Options.Names)
		if err := removeSweepWeights(weightsPath); err != nil {
			return nil, nil, err
		}
		if doc, err = workflow.Sweep(s, job.Req); err != nil {
			return nil, nil, err
		}
	}
	r := sweep.Render(doc, false)
	if err := r.WriteFiles(sweep.Files{CSV: stem + ".csv", JSON: stem + ".json", Plots: []string{stem + ".svg", stem + ".png"}}); err != nil {
		return nil, nil, err
	}
	svg, err := r.Plot("svg")
	if err != nil {
		return nil, nil, err
	}
	if err := writeSweepWeights(weightsPath, weights); err != nil {
		return nil, nil, err
	}
	sec := &report.Section{Heading: fmt.Sprintf("Sweep %s: %s", job.ID, doc.Sweep), Text: sweepText(doc),
		Tables: []*table.Table{r.Display}, Figures: []report.Figure{{Caption: r.Display.Title, SVG: svg}}}
	return sec, r.Display, nil
}

func sameOptions(a, b sweep.Options) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

func sweepText(d *sweep.Document) string {
	switch d.Sweep {
	case sweep.Orders:
		return "Accuracy with the blocks run sequentially, reversed, in random permutations (one per split), and with a fresh permutation per batch of images and per image. Populations pool their members."
	case sweep.MergeMethods:
		return "Weight merges of each population's members by every method (mergekit's definitions), with its defaults and over a grid of its main parameter, every member weighted 1 and the parent as the base; each task with its own head on a multi-task population. References: each member on its own task (individual), the best member, the parent, the multi-task model and the pretrained rows when present. normalized = accuracy / the individual's. Random methods over several seeds (95% interval)."
	case sweep.Depth:
		return "Accuracy with 0 .. depth-1 blocks removed by each pruning strategy (greedy, influence and angular measure on the validation split); random removal over several seeds. Cells: mean ± half-width of the 95% interval."
	}
	return "Accuracy of random Frankenstein models (slot i takes block i of one of n randomly chosen members; stem and head from one of them) against the number n of source members; n = 1 are the members themselves."
}

// Versions names the program and the Go toolchain that produced a report.
func Versions() [][2]string {
	out := [][2]string{{"go", runtime.Version()}, {"os/arch", runtime.GOOS + "/" + runtime.GOARCH}}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return out
	}
	out = append(out, [2]string{info.Main.Path, info.Main.Version})
	for _, set := range info.Settings {
		if set.Key == "vcs.revision" || set.Key == "vcs.time" || set.Key == "vcs.modified" {
			out = append(out, [2]string{set.Key, set.Value})
		}
	}
	for _, dep := range info.Deps {
		switch dep.Path {
		case "github.com/nlpodyssey/spago", "gonum.org/v1/plot", "gonum.org/v1/gonum", "github.com/klauspost/compress":
			out = append(out, [2]string{dep.Path, dep.Version})
		}
	}
	return out
}
