package study

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/frankenvit/frankenvit/analysis"
	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/internal/durable"
	"github.com/frankenvit/frankenvit/report"
	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/workflow"
)

// analysisKey is what an analysis's results depend on. It is written last,
// as options.json beside the results, so a rerun with the same key reuses
// them and a crash mid-write leaves no key that matches.
type analysisKey struct {
	Model   string   `json:"model"`
	Weights []string `json:"weights"` // the blobs of the stem, the blocks and the head
	Split   string   `json:"split"`
	Limit   int      `json:"limit"`
	Orders  int      `json:"orders"` // as asked: 0 = 2 x depth
	Seed    uint64   `json:"seed"`
	Feature string   `json:"feature"`
}

// headlineTables are the analysis tables a study prints at the end: the lens
// and skips per slot, the contribution block by slot, and the slot probe.
var headlineTables = []string{"slots", "contribution-accuracy", "probe"}

// runAnalysis analyses one model unless out/analysis-MODEL holds its results
// with the same options and weights, writes every figure as SVG and PNG,
// every table as CSV and the report as analysis.json, and returns the
// report's section and its headline tables.
func runAnalysis(s *checkpoint.Store, job AnalysisJob, out string, log io.Writer) (*report.Section, []*table.Table, error) {
	req := job.Req
	req.Log = log
	dir := filepath.Join(out, "analysis-"+req.Name)
	man, err := s.Get(req.Name)
	if err != nil {
		return nil, nil, err
	}
	key := analysisKey{Model: req.Name, Split: req.Split, Limit: req.Limit, Orders: req.Options.Orders,
		Seed: req.Options.Seed, Feature: string(req.Options.Feature)}
	for _, p := range append(append([]checkpoint.PartRef{man.Stem}, man.Blocks...), man.Head) {
		key.Weights = append(key.Weights, p.Blob)
	}
	keyPath, reportPath := filepath.Join(dir, "options.json"), filepath.Join(dir, "analysis.json")
	rep, err := storedAnalysis(keyPath, reportPath, key)
	if err != nil {
		return nil, nil, err
	}
	if rep != nil {
		fmt.Fprintf(log, "analysis %s: results in %s\n", req.Name, dir)
	} else {
		fmt.Fprintf(log, "analysis %s: %s split, limit %d, seed %d\n", req.Name, req.Split, req.Limit, req.Options.Seed)
		if err := os.Remove(keyPath); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, nil, err
		}
		if rep, err = workflow.Analyze(s, req); err != nil {
			return nil, nil, err
		}
	}
	files, svgs, err := renderAnalysis(rep)
	if err != nil {
		return nil, nil, err
	}
	rawKey, err := json.MarshalIndent(key, "", "  ")
	if err != nil {
		return nil, nil, err
	}
	files = append(files, workflow.AnalysisFile{Name: "options.json", Data: append(rawKey, '\n')})
	if err := writeAnalysis(dir, files); err != nil {
		return nil, nil, err
	}
	sec, headline := analysisSection(rep, job, svgs)
	return sec, headline, nil
}

// storedAnalysis is the report in reportPath if keyPath holds key, nil if
// there is no such result.
func storedAnalysis(keyPath, reportPath string, key analysisKey) (*analysis.Report, error) {
	raw, err := os.ReadFile(keyPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var old analysisKey
	if json.Unmarshal(raw, &old) != nil || !sameKey(old, key) {
		return nil, nil
	}
	raw, err = os.ReadFile(reportPath)
	if err != nil {
		return nil, nil
	}
	var rep analysis.Report
	if json.Unmarshal(raw, &rep) != nil {
		return nil, nil
	}
	return &rep, nil
}

func sameKey(a, b analysisKey) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}

// renderAnalysis draws every figure (SVG and PNG) and writes every table
// and the report in memory, before any file is touched; it also returns the
// SVGs by figure name for the report.
func renderAnalysis(rep *analysis.Report) ([]workflow.AnalysisFile, map[string][]byte, error) {
	files, err := workflow.RenderAnalysis(rep, analysis.Formats, true, true)
	if err != nil {
		return nil, nil, err
	}
	svgs := map[string][]byte{}
	for i, f := range files {
		if name, ok := strings.CutSuffix(f.Name, ".svg"); ok {
			files[i].Data = report.StretchImages(f.Data) // the heat maps' colour bars fill their boxes in a browser
			svgs[name] = files[i].Data
		}
	}
	return files, svgs, nil
}

// writeAnalysis writes the files into dir, each atomically, options.json
// last, and removes the figures and tables an earlier analysis of another
// kind of model left there (a position head's, say).
func writeAnalysis(dir string, files []workflow.AnalysisFile) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("analysis folder: %v", err)
	}
	written := map[string]bool{}
	for _, f := range files {
		if err := durable.WriteFile(filepath.Join(dir, f.Name), f.Data); err != nil {
			return err
		}
		written[f.Name] = true
	}
	for _, m := range analysis.Measures {
		var stale []string
		for _, n := range m.Figures {
			for _, format := range analysis.Formats {
				stale = append(stale, n+"."+format)
			}
		}
		for _, n := range m.Tables {
			stale = append(stale, n+".csv")
		}
		for _, name := range stale {
			if !written[name] {
				if err := os.Remove(filepath.Join(dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
					return err
				}
			}
		}
	}
	return nil
}

// analysisSection lays a report out as one section of the study's report:
// a part per measure, its explanation above its tables and figures; tables
// and figures no measure claims come last, so nothing is left out.
func analysisSection(rep *analysis.Report, job AnalysisJob, svgs map[string][]byte) (*report.Section, []*table.Table) {
	tables := map[string]*table.Table{}
	var tableOrder []string
	for _, nt := range rep.Tables() {
		tables[nt.Name] = nt.Table
		tableOrder = append(tableOrder, nt.Name)
	}
	figures := map[string]report.Figure{}
	var figureOrder []string
	for _, f := range rep.Figures() {
		figures[f.Name] = report.Figure{Caption: f.Caption, SVG: svgs[f.Name]}
		figureOrder = append(figureOrder, f.Name)
	}
	heading := "Analysis " + rep.Model
	if job.As != rep.Model {
		heading += " (first model of " + job.As + ")"
	}
	sec := &report.Section{Heading: heading, Text: fmt.Sprintf("What each block of %s (%s) does at each slot: %d "+
		"images of the %s split of %s run through %d random block orders (rows of random Latin squares, so every "+
		"block visits every slot equally often) and the sequential order, in which the model scores %.2f%%. The "+
		"probe, CKA and PCA see each block's output as %s; seed %d. Every number is in analysis-%s/ (analysis.json, "+
		"a CSV per table, each figure as SVG and PNG); frankenvit analyze %s shows the same.",
		rep.Model, rep.Variant, rep.Images, rep.Split, rep.Data, len(rep.Orders), 100*rep.Accuracy,
		featureWords(rep.Feature), rep.Seed, rep.Model, rep.Model)}
	used := map[string]bool{}
	for _, m := range analysis.Measures {
		part := report.Part{Heading: m.Title, Text: m.About}
		for _, n := range m.Tables {
			if t, ok := tables[n]; ok {
				part.Tables = append(part.Tables, t)
				used["table "+n] = true
			}
		}
		for _, n := range m.Figures {
			if f, ok := figures[n]; ok {
				part.Figures = append(part.Figures, f)
				used["figure "+n] = true
			}
		}
		if len(part.Tables)+len(part.Figures) > 0 {
			sec.Parts = append(sec.Parts, part)
		}
	}
	other := report.Part{Heading: "Other measures"}
	for _, n := range tableOrder {
		if !used["table "+n] {
			other.Tables = append(other.Tables, tables[n])
		}
	}
	for _, n := range figureOrder {
		if !used["figure "+n] {
			other.Figures = append(other.Figures, figures[n])
		}
	}
	if len(other.Tables)+len(other.Figures) > 0 {
		sec.Parts = append(sec.Parts, other)
	}
	var headline []*table.Table
	for _, n := range tableOrder {
		if slices.Contains(headlineTables, n) {
			headline = append(headline, tables[n])
		}
	}
	return sec, headline
}

func featureWords(f analysis.Feature) string {
	if f == analysis.ClassToken {
		return "the class token"
	}
	return "the mean over its tokens"
}
