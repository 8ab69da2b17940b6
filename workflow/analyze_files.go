package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/frankenvit/frankenvit/analysis"
	"github.com/frankenvit/frankenvit/internal/durable"
)

// AnalysisOutput says where and how an analysis is written: the figures
// always, each table as NAME.csv with CSV, the whole report as
// analysis.json with JSON.
type AnalysisOutput struct {
	Dir    string
	Format string // png or svg
	CSV    bool
	JSON   bool
}

// Check refuses an output that cannot be written, before any work is done.
func (o AnalysisOutput) Check() error {
	if _, err := analysis.ParseFormat(o.Format); err != nil {
		return fmt.Errorf("--format: %v", err)
	}
	if o.Dir == "" {
		return fmt.Errorf("--out must name a directory")
	}
	if st, err := os.Stat(o.Dir); err == nil && !st.IsDir() {
		return fmt.Errorf("--out %s exists and is not a directory", o.Dir)
	}
	return nil
}

// AnalysisFile is one file of an analysis's output, rendered in memory.
type AnalysisFile struct {
	Name string
	Data []byte
}

// RenderAnalysis renders rep in memory, in a fixed order: every figure in
// each of formats (NAME.FORMAT), with csv every table (NAME.csv), with
// withJSON the whole report (analysis.json).
func RenderAnalysis(rep *analysis.Report, formats []string, csv, withJSON bool) ([]AnalysisFile, error) {
	var files []AnalysisFile
	for _, f := range rep.Figures() {
		for _, format := range formats {
			b, err := f.Render(format)
			if err != nil {
				return nil, err
			}
			files = append(files, AnalysisFile{f.Name + "." + format, b})
		}
	}
	if csv {
		for _, nt := range rep.Tables() {
			var buf bytes.Buffer
			if err := nt.Table.WriteCSV(&buf); err != nil {
				return nil, err
			}
			files = append(files, AnalysisFile{nt.Name + ".csv", buf.Bytes()})
		}
	}
	if withJSON {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return nil, err
		}
		files = append(files, AnalysisFile{"analysis.json", append(b, '\n')})
	}
	return files, nil
}

// SaveAnalysis renders everything in memory first, then writes each file
// atomically (a temporary file renamed into place), so a failure leaves no
// half-written file. It returns the paths written.
func SaveAnalysis(rep *analysis.Report, o AnalysisOutput) ([]string, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	files, err := RenderAnalysis(rep, []string{o.Format}, o.CSV, o.JSON)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("--out: %v", err)
	}
	var written []string
	for _, f := range files {
		path := filepath.Join(o.Dir, f.Name)
		if err := durable.WriteFile(path, f.Data); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}
