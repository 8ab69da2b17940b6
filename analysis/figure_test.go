package analysis

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

func TestFiguresRender(t *testing.T) {
	split, norm := stripes(80, 8)
	r, err := Run(randomModel(t, tinyConfig(vit.ShufflePredict), 2), split, norm, Options{Orders: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range r.Figures() {
		names[f.Name] = true
		pngBytes, err := f.Render("png")
		if err != nil {
			t.Fatalf("%s: %v", f.Name, err)
		}
		img, err := png.Decode(bytes.NewReader(pngBytes))
		if err != nil || img.Bounds().Dx() < 100 {
			t.Errorf("%s: not a PNG of a sensible size: %v", f.Name, err)
		}
		svg, err := f.Render("svg")
		if err != nil || !strings.Contains(string(svg), "<svg") {
			t.Errorf("%s: not an SVG: %v", f.Name, err)
		}
	}
	for _, want := range []string{"contribution-accuracy", "contribution-loss", "lens", "lens-blocks", "probe",
		"probe-confusion", "head", "head-confusion", "cka", "pca"} {
		if !names[want] {
			t.Errorf("no figure %q", want)
		}
	}
	if _, err := r.Figures()[0].Render("gif"); err == nil {
		t.Error("rendering a gif succeeded")
	}
}

// A grid without data (every cell NaN) still draws.
func TestHeatMapOfEmptyGrid(t *testing.T) {
	g := NewGrid(labels("block ", 2), labels("slot ", 2))
	h := heatMap("empty", g, "", 1, "%.1f")
	h.Annotate = true
	f := Figure{Name: "empty", Width: 300, Height: 300, Chart: h}
	if _, err := f.Render("png"); err != nil {
		t.Fatal(err)
	}
}

func FuzzParseFormat(f *testing.F) {
	for _, s := range []string{"png", "svg", "PNG", "", "pdf"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFormat(s)
		if (err == nil) != (s == "png" || s == "svg") || err == nil && got != s {
			t.Errorf("ParseFormat(%q) = %q, %v", s, got, err)
		}
	})
}

func FuzzParseFeature(f *testing.F) {
	for _, s := range []string{"mean", "cls", "CLS", "", "max"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseFeature(s)
		if (err == nil) != (s == "mean" || s == "cls") || err == nil && string(got) != s {
			t.Errorf("ParseFeature(%q) = %q, %v", s, got, err)
		}
	})
}
