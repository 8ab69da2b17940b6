package analysis

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/vit"
)

// tinyConfig is a 3-block model of the 8x8 stripe images.
func tinyConfig(v vit.Variant) vit.Config {
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 12, Heads: 3, MLP: 20, Depth: 3,
		Classes: 4, Variant: v}
	if v.HasPositionProjection() {
		c.PosDim = 4
	}
	return c
}

// randomModel draws every parameter, the LayerNorm affines and the slot
// table included, large enough that every block changes its input visibly.
func randomModel(t testing.TB, c vit.Config, seed uint64) *vit.Model {
	t.Helper()
	m, err := vit.NewModel(string(c.Variant), c)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, p := range m.Params() {
		for i := range p.Data() {
			v := rng.NormFloat64()
			switch {
			case strings.HasSuffix(p.Name, "norm.weight") || strings.HasSuffix(p.Name, "norm1.weight") ||
				strings.HasSuffix(p.Name, "norm2.weight"):
				v = 1 + 0.2*v
			case len(p.Shape) >= 2:
				v *= 0.4
			default:
				v *= 0.2
			}
			p.Data()[i] = float32(v)
		}
	}
	return m
}

// stripes is n labelled 8x8 images of the synth stripe task.
func stripes(n int, seed uint64) (*dataset.Split, dataset.Normalization) {
	pixels, labels := synth.StripeImages(n, rand.New(rand.NewPCG(seed, 1)))
	s := &dataset.Split{Pixels: pixels, Labels: labels, N: n, C: 1, H: 8, W: 8}
	return s, dataset.Normalization{Mean: []float32{0.3}, Std: []float32{0.3}}
}

// makeIdentity zeroes what a block adds to its input, so it computes the
// identity: the attention and MLP outputs and, if present, the slot projection.
func makeIdentity(bl *vit.Block) {
	zero := []*vit.Param{bl.ProjW, bl.ProjB, bl.Fc2W, bl.Fc2B}
	if bl.PosProj != nil {
		zero = append(zero, bl.PosProj.FcW, bl.PosProj.FcB)
	}
	for _, p := range zero {
		clear(p.Data())
	}
}
