package plot

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/internal/durable"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Series is one curve: points (X[i], Y[i]) with an interval Low[i]..High[i].
type Series struct {
	Name            string
	X, Y, Low, High []float64
	PointsOnly      bool // a marker per point and no line (e.g. a single reference model)
}

// Panel is one plot of several series.
type Panel struct {
	Title, XLabel, YLabel string
	Series                []Series
	// Categories, when set, names the X positions 0..len-1; the series are
	// then drawn side by side as points with error bars, without lines.
	Categories []string
	IntegerX   bool    // ticks at whole numbers only (e.g. blocks removed)
	YMin, YMax float64 // the Y range; both 0: fitted to the data
}

// Figure is one or more panels, two per row: the sweeps' curves. A
// *Figure is a Chart of its own Size.
type Figure struct {
	Panels []Panel
	// PanelWidth and PanelHeight in centimetres; 0 gives 16 x 11.
	PanelWidth, PanelHeight float64
}

// Format returns "svg" or "png" from a file name, or an error naming the
// file.
func Format(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".svg":
		return "svg", nil
	case ".png":
		return "png", nil
	}
	return "", fmt.Errorf("plot file %q: want a name ending in .svg or .png", path)
}

// Save writes the figure to path (format from the extension), atomically.
func (f *Figure) Save(path string) error {
	format, err := Format(path)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	if err := f.Write(&b, format); err != nil {
		return err
	}
	return durable.WriteFile(path, b.Bytes())
}

// Size is the page the figure takes: its panels two per row.
func (f *Figure) Size() (width, height Length) {
	pw, ph := f.PanelWidth, f.PanelHeight
	if pw == 0 {
		pw, ph = 16, 11
	}
	cols := max(1, min(2, len(f.Panels)))
	rows := (len(f.Panels) + cols - 1) / cols
	return Length(vg.Length(pw*float64(cols)) * vg.Centimeter), Length(vg.Length(ph*float64(rows)) * vg.Centimeter)
}

// Write renders the figure as "svg" or "png".
func (f *Figure) Write(w io.Writer, format string) error {
	if len(f.Panels) == 0 {
		return fmt.Errorf("plot: nothing to draw")
	}
	width, height := f.Size()
	b, err := Render(f, width, height, format)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func (f *Figure) drawOn(dc draw.Canvas) error {
	if len(f.Panels) == 0 {
		return fmt.Errorf("plot: nothing to draw")
	}
	plots := make([]*plot.Plot, len(f.Panels))
	for i := range f.Panels {
		p, err := f.Panels[i].build()
		if err != nil {
			return err
		}
		plots[i] = p
	}
	if len(plots) == 1 {
		plots[0].Draw(dc)
		return nil
	}
	cols := min(2, len(plots))
	rows := (len(plots) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for r := range grid {
		grid[r] = make([]*plot.Plot, cols)
		for col := range grid[r] {
			if i := r*cols + col; i < len(plots) {
				grid[r][col] = plots[i]
			}
		}
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Centimeter, PadY: vg.Centimeter,
		PadTop: vg.Millimeter * 3, PadBottom: vg.Millimeter * 3, PadLeft: vg.Millimeter * 3, PadRight: vg.Millimeter * 3}
	canvases := plot.Align(grid, tiles, dc)
	for r := range grid {
		for col, p := range grid[r] {
			if p != nil {
				p.Draw(canvases[r][col])
			}
		}
	}
	return nil
}

// errPoints are points with intervals, for plotter.NewYErrorBars.
type errPoints struct {
	x, y, low, high []float64
}

func (e errPoints) Len() int                    { return len(e.x) }
func (e errPoints) XY(i int) (float64, float64) { return e.x[i], e.y[i] }
func (e errPoints) YError(i int) (float64, float64) {
	return e.y[i] - e.low[i], e.high[i] - e.y[i]
}

func (f *Panel) build() (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = f.Title
	p.X.Label.Text = f.XLabel
	p.Y.Label.Text = f.YLabel
	p.Legend.Top, p.Legend.Left = false, true
	p.Add(plotter.NewGrid())
	n := len(f.Series)
	for i, s := range f.Series {
		if len(s.X) != len(s.Y) || len(s.Low) != len(s.Y) || len(s.High) != len(s.Y) {
			return nil, fmt.Errorf("plot series %q: %d x, %d y, %d low, %d high values", s.Name, len(s.X), len(s.Y), len(s.Low), len(s.High))
		}
		if len(s.X) == 0 {
			continue
		}
		c := plotutil.Color(i)
		x := s.X
		if f.Categories != nil { // side by side within each category
			x = make([]float64, len(s.X))
			for j := range x {
				x[j] = s.X[j] + (float64(i)-float64(n-1)/2)*0.6/float64(max(n, 1))
			}
		}
		pts := make(plotter.XYs, len(x))
		for j := range x {
			pts[j] = plotter.XY{X: x[j], Y: s.Y[j]}
		}
		line := !s.PointsOnly && f.Categories == nil && len(x) > 1
		if line && hasWidth(s) {
			ring := make(plotter.XYs, 0, 2*len(x))
			for j := range x {
				ring = append(ring, plotter.XY{X: x[j], Y: s.Low[j]})
			}
			for j := len(x) - 1; j >= 0; j-- {
				ring = append(ring, plotter.XY{X: x[j], Y: s.High[j]})
			}
			band, err := plotter.NewPolygon(ring)
			if err != nil {
				return nil, err
			}
			r, g, b, _ := c.RGBA()
			band.Color = color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: 0x38}
			band.LineStyle.Width = 0
			p.Add(band)
		}
		bars, err := plotter.NewYErrorBars(errPoints{x, s.Y, s.Low, s.High})
		if err != nil {
			return nil, err
		}
		bars.Color = c
		bars.CapWidth = vg.Points(4)
		scatter, err := plotter.NewScatter(pts)
		if err != nil {
			return nil, err
		}
		scatter.GlyphStyle = draw.GlyphStyle{Color: c, Radius: vg.Points(2.5), Shape: plotutil.Shape(i)}
		p.Add(bars, scatter)
		if line {
			l, err := plotter.NewLine(pts)
			if err != nil {
				return nil, err
			}
			l.Color, l.Width, l.Dashes = c, vg.Points(1.5), plotutil.Dashes(i/7)
			p.Add(l)
			p.Legend.Add(s.Name, l, scatter)
		} else {
			p.Legend.Add(s.Name, scatter)
		}
	}
	if f.Categories != nil {
		ticks := make([]plot.Tick, len(f.Categories))
		for i, name := range f.Categories {
			ticks[i] = plot.Tick{Value: float64(i), Label: name}
		}
		p.X.Tick.Marker = plot.ConstantTicks(ticks)
		p.X.Min, p.X.Max = -0.5, float64(len(f.Categories))-0.5
	} else if f.IntegerX {
		p.X.Tick.Marker = integerTicks{}
	}
	if f.YMin != 0 || f.YMax != 0 {
		p.Y.Min, p.Y.Max = f.YMin, f.YMax
	}
	return p, nil
}

func hasWidth(s Series) bool {
	for j := range s.Y {
		if s.High[j] > s.Low[j] {
			return true
		}
	}
	return false
}

// integerTicks labels every whole number of the axis range.
type integerTicks struct{}

func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for v := math.Ceil(lo); v <= hi; v++ {
		ticks = append(ticks, plot.Tick{Value: v, Label: strconv.Itoa(int(v))})
	}
	return ticks
}
