package table

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"

	"github.com/olekukonko/tablewriter"
)

// Table is a titled grid of cells, the one form every printed result takes.
type Table struct {
	Title  string     `json:"title,omitempty"`
	Header []string   `json:"header"`
	Rows   [][]string `json:"rows"`
}

// Add appends one row.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// Render draws the table for a terminal.
func (t *Table) Render(w io.Writer) error {
	if t.Title != "" {
		if _, err := io.WriteString(w, t.Title+"\n"); err != nil {
			return err
		}
	}
	tw := tablewriter.NewWriter(w)
	header := make([]any, len(t.Header))
	for i, h := range t.Header {
		header[i] = h
	}
	tw.Header(header...)
	if err := tw.Bulk(t.Rows); err != nil {
		return err
	}
	return tw.Render()
}

// WriteCSV writes the header and the rows as CSV.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Header); err != nil {
		return err
	}
	if err := cw.WriteAll(t.Rows); err != nil {
		return err
	}
	return cw.Error()
}

// WriteJSON writes the rows as a list of objects keyed by the header.
func (t *Table) WriteJSON(w io.Writer) error {
	out := make([]map[string]string, len(t.Rows))
	for i, row := range t.Rows {
		out[i] = map[string]string{}
		for j, cell := range row {
			if j < len(t.Header) {
				out[i][t.Header[j]] = cell
			}
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// JSONCell shows a value as one line of JSON for a table cell: a JSON
// string without its quotes, anything else compacted. A json.RawMessage is
// shown as it is, compacted when valid.
func JSONCell(v any) string {
	raw, ok := v.(json.RawMessage)
	if !ok {
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return fmt.Sprint(v)
		}
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return string(raw)
	}
	return b.String()
}

// Fields reads a two-column field/value table (what the describe functions
// write) back into a map, refusing a row of another width or a field given
// twice.
func (t *Table) Fields() (map[string]string, error) {
	out := map[string]string{}
	for _, r := range t.Rows {
		if len(r) != 2 {
			return nil, fmt.Errorf("table %q: row %q has %d cells, not field and value", t.Title, r, len(r))
		}
		if _, dup := out[r[0]]; dup {
			return nil, fmt.Errorf("table %q: field %q twice", t.Title, r[0])
		}
		out[r[0]] = r[1]
	}
	return out, nil
}
