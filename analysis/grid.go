package analysis

import (
	"encoding/json"
	"math"
	"strconv"

	"github.com/frankenvit/frankenvit/stats"
)

// Grid is a labelled matrix of numbers, the form of every block-by-slot and
// slot-by-slot result. NaN marks a cell without data; it is null in JSON.
type Grid struct {
	Rows   []string    `json:"rows"`
	Cols   []string    `json:"cols"`
	Values [][]float64 `json:"values"`
}

// NewGrid makes a rows x cols grid filled with NaN.
func NewGrid(rows, cols []string) Grid {
	g := Grid{Rows: rows, Cols: cols, Values: make([][]float64, len(rows))}
	for i := range g.Values {
		g.Values[i] = make([]float64, len(cols))
		for j := range g.Values[i] {
			g.Values[i][j] = math.NaN()
		}
	}
	return g
}

// At is the value at row i, column j.
func (g Grid) At(i, j int) float64 { return g.Values[i][j] }

// Range is the smallest and largest finite value (0, 0 if there is none).
func (g Grid) Range() (lo, hi float64) {
	return stats.FiniteRange(g.Values)
}

// MarshalJSON writes NaN cells as null, which encoding/json cannot do itself.
func (g Grid) MarshalJSON() ([]byte, error) {
	values := make([][]*float64, len(g.Values))
	for i, row := range g.Values {
		values[i] = make([]*float64, len(row))
		for j := range row {
			if v := row[j]; !math.IsNaN(v) && !math.IsInf(v, 0) {
				values[i][j] = &v
			}
		}
	}
	return json.Marshal(struct {
		Rows   []string     `json:"rows"`
		Cols   []string     `json:"cols"`
		Values [][]*float64 `json:"values"`
	}{g.Rows, g.Cols, values})
}

// UnmarshalJSON reads null cells back as NaN.
func (g *Grid) UnmarshalJSON(b []byte) error {
	var raw struct {
		Rows   []string     `json:"rows"`
		Cols   []string     `json:"cols"`
		Values [][]*float64 `json:"values"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	g.Rows, g.Cols, g.Values = raw.Rows, raw.Cols, make([][]float64, len(raw.Values))
	for i, row := range raw.Values {
		g.Values[i] = make([]float64, len(row))
		for j, v := range row {
			g.Values[i][j] = math.NaN()
			if v != nil {
				g.Values[i][j] = *v
			}
		}
	}
	return nil
}

// Vector is a list of numbers whose NaN entries (no data) are null in JSON.
type Vector []float64

// MarshalJSON writes NaN entries as null.
func (v Vector) MarshalJSON() ([]byte, error) {
	out := make([]*float64, len(v))
	for i := range v {
		if x := v[i]; !math.IsNaN(x) && !math.IsInf(x, 0) {
			out[i] = &x
		}
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads null entries back as NaN.
func (v *Vector) UnmarshalJSON(b []byte) error {
	var raw []*float64
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	*v = make(Vector, len(raw))
	for i, x := range raw {
		(*v)[i] = math.NaN()
		if x != nil {
			(*v)[i] = *x
		}
	}
	return nil
}

// labels names n rows or columns prefix0, prefix1, ...
func labels(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prefix + strconv.Itoa(i)
	}
	return out
}
