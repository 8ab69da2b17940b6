package merge

import (
	"math"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// tinyConfig is a model small enough to build by the dozen in a test.
func tinyConfig(v vit.Variant) vit.Config {
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: 3, Classes: 4, Variant: v}
	if v.HasPositionProjection() {
		c.PosDim = 4
	}
	return c
}

func tinyModel(t testing.TB, name string, c vit.Config, seed uint64) *vit.Model {
	t.Helper()
	m, err := vit.NewModel(name, c)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(seed)
	// Biases and norms away from their init, so every tensor matters.
	for i, p := range m.Params() {
		d := p.Data()
		for j := range d {
			d[j] += float32(0.05 * math.Sin(float64(seed)*7+float64(i)*3.1+float64(j)*0.37))
		}
	}
	return m
}

func tinyPool(t testing.TB, names ...string) *Pool {
	t.Helper()
	var ms []*vit.Model
	for i, n := range names {
		ms = append(ms, tinyModel(t, n, tinyConfig(vit.Shuffle), uint64(i+1)))
	}
	p, err := NewPool(ms...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// testImages is a deterministic batch of B images for c.
func testImages(c vit.Config, B int) []float32 {
	x := make([]float32, B*c.ImageSize())
	for i := range x {
		x[i] = float32(math.Sin(float64(i) * 0.7))
	}
	return x
}

// logits runs m's own plan on x.
func logits(m *vit.Model, x []float32, B int) []float32 {
	return append([]float32(nil), vit.NewRunner(m).Logits(x, B, m.Sequential())...)
}

func maxAbsDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = math.Max(d, math.Abs(float64(a[i]-b[i])))
	}
	return d
}
