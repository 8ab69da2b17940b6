package trainer

import (
	"math/rand/v2"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/vit"
)

// stripes is a learnable synthetic split: class k has a bright row band k.
func stripes(n int, seed uint64) *dataset.Split {
	pixels, labels := synth.StripeImages(n, rand.New(rand.NewPCG(seed, 1)))
	return &dataset.Split{N: n, C: 1, H: 8, W: 8, Pixels: pixels, Labels: labels}
}

func tinyModel(t testing.TB, v vit.Variant, seed uint64) *vit.Model {
	t.Helper()
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: 3, Classes: 4, Variant: v}
	if v.HasPositionProjection() {
		c.PosDim = 4
	}
	m, err := vit.NewModel("tiny", c)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(seed)
	return m
}

func tinyOptions() Options {
	o := DefaultOptions()
	o.Epochs, o.Batch, o.LR = 10, 8, 3e-3
	return o
}
