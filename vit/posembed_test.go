package vit

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/frankenvit/frankenvit/internal/testenv"
)

// ResamplePosEmbed equals torch's bicubic interpolation (align_corners
// False, no antialiasing) within 1e-5, growing, shrinking and reshaping the
// grid, with and without a class token.
func TestResamplePosEmbedMatchesTorch(t *testing.T) {
	testenv.NeedTorch(t)
	type tc struct {
		prefix, oh, ow, nh, nw, dim int
	}
	cases := []tc{{1, 4, 4, 7, 7, 8}, {1, 7, 7, 14, 14, 5}, {0, 14, 14, 4, 4, 3}, {1, 3, 5, 6, 4, 4}, {2, 2, 2, 2, 2, 3}}
	rng := rand.New(rand.NewPCG(1, 2))
	var in []map[string]any
	var pos [][]float32
	for _, c := range cases {
		p := make([]float32, (c.prefix+c.oh*c.ow)*c.dim)
		for i := range p {
			p[i] = float32(rng.NormFloat64())
		}
		pos = append(pos, p)
		in = append(in, map[string]any{"pos": p, "prefix": c.prefix, "old": []int{c.oh, c.ow}, "new": []int{c.nh, c.nw}, "dim": c.dim})
	}
	var want [][]float64
	runReference(t, "posembed_reference.py", 2*time.Minute, map[string]any{"cases": in}, &want)
	if len(want) != len(cases) {
		t.Fatalf("torch reference gave %d results for %d cases", len(want), len(cases))
	}
	for i, c := range cases {
		got, err := ResamplePosEmbed(pos[i], c.prefix, c.oh, c.ow, c.nh, c.nw, c.dim)
		if err != nil {
			t.Fatal(err)
		}
		d := maxAbsDiff(t, "resampled position embedding", got, want[i])
		if d > 1e-5 {
			t.Errorf("%dx%d -> %dx%d (prefix %d): max |diff| %g from torch", c.oh, c.ow, c.nh, c.nw, c.prefix, d)
		}
		t.Logf("%dx%d -> %dx%d: max |diff| %.2g", c.oh, c.ow, c.nh, c.nw, d)
	}
}

// The same grid comes back unchanged (the kernel interpolates), and bad
// sizes are one error, not a panic.
func TestResamplePosEmbedIdentityAndErrors(t *testing.T) {
	p := make([]float32, (1+3*4)*2)
	for i := range p {
		p[i] = float32(i)
	}
	got, err := ResamplePosEmbed(p, 1, 3, 4, 3, 4, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p {
		if d := got[i] - p[i]; d > 1e-5 || d < -1e-5 {
			t.Fatalf("value %d: %v, want %v", i, got[i], p[i])
		}
	}
	if _, err := ResamplePosEmbed(p, 1, 4, 4, 3, 4, 2); err == nil || !strings.Contains(err.Error(), "26 values") {
		t.Errorf("a wrong size: %v", err)
	}
	if _, err := ResamplePosEmbed(p, 1, 3, 4, 0, 4, 2); err == nil {
		t.Error("an empty grid was accepted")
	}
}
