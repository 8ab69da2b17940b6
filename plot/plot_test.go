package plot

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func figure() *Figure {
	curve := Series{Name: "greedy", X: []float64{0, 1, 2}, Y: []float64{97, 90, 70}, Low: []float64{96, 85, 60}, High: []float64{98, 95, 80}}
	point := Series{Name: "reference-net", X: []float64{1}, Y: []float64{93}, Low: []float64{93}, High: []float64{93}, PointsOnly: true}
	cats := Series{Name: "model-a", X: []float64{0, 1}, Y: []float64{95, 60}, Low: []float64{94, 50}, High: []float64{96, 70}}
	return &Figure{Panels: []Panel{
		{Title: "depth", XLabel: "blocks removed", YLabel: "accuracy (%)", Series: []Series{curve, point}, IntegerX: true, YMax: 100},
		{Title: "orders", XLabel: "order", YLabel: "accuracy (%)", Series: []Series{cats}, Categories: []string{"sequential", "random"}},
	}}
}

func TestWriteSVGAndPNG(t *testing.T) {
	var svg bytes.Buffer
	if err := figure().Write(&svg, "svg"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<svg", "greedy", "reference-net", "model-a", "blocks removed", "sequential"} {
		if !strings.Contains(svg.String(), want) {
			t.Errorf("the SVG lacks %q", want)
		}
	}
	path := filepath.Join(t.TempDir(), "f.png")
	if err := figure().Save(path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() < 500 || b.Dx() < b.Dy() {
		t.Errorf("two panels side by side drew a %dx%d image", b.Dx(), b.Dy())
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o644 {
		t.Errorf("the plot file has mode %v, want 0644", st.Mode().Perm())
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("saving left %d files, want 1", len(entries))
	}
}

func TestRefusals(t *testing.T) {
	if _, err := Format("plot.pdf"); err == nil {
		t.Error("a .pdf name was accepted")
	}
	if err := (&Figure{}).Write(&bytes.Buffer{}, "svg"); err == nil {
		t.Error("an empty figure was drawn")
	}
	bad := figure()
	bad.Panels[0].Series[0].Low = nil
	if err := bad.Save(filepath.Join(t.TempDir(), "x.svg")); err == nil {
		t.Error("a series without intervals was drawn")
	}
}
