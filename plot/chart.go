package plot

import (
	"bytes"
	"fmt"
	"strings"

	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Length is a distance on the page in points (1/72 inch), as gonum/plot
// measures it.
type Length float64

// Units of Length.
const (
	Point      Length = 1
	Inch              = Length(vg.Inch)
	Centimeter        = Length(vg.Centimeter)
	Millimeter        = Length(vg.Millimeter)
)

// Formats are the picture formats Render and Figure.Write accept.
var Formats = []string{"png", "svg"}

// ParseFormat accepts png or svg, as typed on the command line.
func ParseFormat(s string) (string, error) {
	for _, f := range Formats {
		if s == f {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown figure format %q: want %s", s, strings.Join(Formats, " or "))
}

// A Chart is a picture that Render draws on a page of a given size: a
// *HeatMap, a *LineChart or a *ScatterGrid.
type Chart interface {
	drawOn(c draw.Canvas) error
}

// Render draws the chart on a page of width x height in a format of Formats
// and returns the file's bytes. A panic of the plotting library (it panics
// on some data it cannot draw) is returned as an error carrying the panic's
// value, so a bad picture does not take its caller down.
func Render(chart Chart, width, height Length, format string) (out []byte, err error) {
	if _, err := ParseFormat(format); err != nil {
		return nil, err
	}
	c, err := draw.NewFormattedCanvas(vg.Length(width), vg.Length(height), format)
	if err != nil {
		return nil, err
	}
	defer func() {
		if p := recover(); p != nil {
			out, err = nil, fmt.Errorf("%v", p)
		}
	}()
	if err := chart.drawOn(draw.New(c)); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Tick is a labelled position on an axis.
type Tick struct {
	Value float64
	Label string
}
