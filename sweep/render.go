package sweep

import (
	"bytes"

	"github.com/frankenvit/frankenvit/internal/durable"
	"github.com/frankenvit/frankenvit/plot"
	"github.com/frankenvit/frankenvit/table"
)

// Rendering is a sweep document summarised and drawn: what `bench
// orders|depth|merge`, `bench merge-results` and a study print and write.
type Rendering struct {
	Doc  *Document
	Rows []Row
	// MethodRows is the summary of a merge-methods sweep (Rows is empty).
	MethodRows []MethodRow
	// Display is the table to print: the summary, or for a depth sweep the
	// grid of strategies against blocks removed.
	Display *table.Table
	// Data is the summary in long form, one row per group, kind and depth:
	// what the CSV file holds.
	Data   *table.Table
	Figure *plot.Figure

	plots map[string][]byte // the figure drawn, by format
}

// Render summarises the document (per model, or per group as named) into
// its Summary and renders the tables and the figure.
func Render(d *Document, perModel bool) *Rendering {
	if d.Sweep == MergeMethods {
		rows := SummarizeMethods(d)
		d.MethodSummary = rows
		display, data := MethodTables(d, rows)
		return &Rendering{Doc: d, MethodRows: rows, Display: display, Data: data, Figure: MethodFigure(d, rows)}
	}
	rows := Summarize(d, perModel)
	d.Summary = rows
	display, data := Tables(d, rows)
	if d.Sweep == Depth {
		display = DepthGrid(d, rows) // the long form goes to the CSV
	}
	return &Rendering{Doc: d, Rows: rows, Display: display, Data: data, Figure: Figure(d, rows)}
}

// Plot is the figure drawn as "svg" or "png"; each format is drawn once.
func (r *Rendering) Plot(format string) ([]byte, error) {
	if b, ok := r.plots[format]; ok {
		return b, nil
	}
	var b bytes.Buffer
	if err := r.Figure.Write(&b, format); err != nil {
		return nil, err
	}
	if r.plots == nil {
		r.plots = map[string][]byte{}
	}
	r.plots[format] = b.Bytes()
	return b.Bytes(), nil
}

// Files name the files a rendering writes; an empty name is not written.
type Files struct {
	CSV   string   // the long-form summary (Data)
	JSON  string   // the document with its summary, the input of MergeShards
	Plots []string // the figure, each FILE.svg or FILE.png
}

// FileError is a file of Files that could not be written.
type FileError struct {
	Kind string // "csv", "json" or "plot"
	Path string
	Err  error
}

func (e *FileError) Error() string { return e.Err.Error() }
func (e *FileError) Unwrap() error { return e.Err }

// WriteFiles writes the files named, each atomically: the CSV, the plots,
// then the JSON last, so that a JSON file is the mark of a sweep whose
// files were all written.
func (r *Rendering) WriteFiles(f Files) error {
	if f.CSV != "" {
		var b bytes.Buffer
		if err := r.Data.WriteCSV(&b); err != nil {
			return err
		}
		if err := durable.WriteFile(f.CSV, b.Bytes()); err != nil {
			return &FileError{"csv", f.CSV, err}
		}
	}
	for _, path := range f.Plots {
		if path == "" {
			continue
		}
		err := func() error {
			format, err := plot.Format(path)
			if err != nil {
				return err
			}
			b, err := r.Plot(format)
			if err != nil {
				return err
			}
			return durable.WriteFile(path, b)
		}()
		if err != nil {
			return &FileError{"plot", path, err}
		}
	}
	if f.JSON != "" {
		if err := r.Doc.WriteFile(f.JSON); err != nil {
			return &FileError{"json", f.JSON, err}
		}
	}
	return nil
}
