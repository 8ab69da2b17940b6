package merge

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// randomPermutation draws a head-structured permutation of every group of m.
func randomPermutation(m *vit.Model, seed uint64) Permutation {
	rng := rand.New(rand.NewPCG(seed, 9))
	D, H := m.Config.Dim, m.Config.Heads
	dh := D / H
	p := Permutation{Residual: rng.Perm(D)}
	for _, b := range m.Blocks {
		bp := BlockPermutation{Heads: rng.Perm(H), QK: make([]int, D), V: make([]int, D), MLP: rng.Perm(b.MLP)}
		for a, h := range bp.Heads {
			q, v := rng.Perm(dh), rng.Perm(dh)
			for i := 0; i < dh; i++ {
				bp.QK[a*dh+i], bp.V[a*dh+i] = h*dh+q[i], h*dh+v[i]
			}
		}
		p.Blocks = append(p.Blocks, bp)
	}
	return p
}

// Permuting hidden units leaves the function unchanged, for every variant's
// extras (slot projection, slot head).
func TestPermuteKeepsTheFunction(t *testing.T) {
	for _, v := range []vit.Variant{vit.Shuffle, vit.ShufflePosition, vit.ShufflePredict} {
		c := tinyConfig(v)
		c.Dim, c.Heads = 24, 3
		m := tinyModel(t, "m", c, 1)
		p := randomPermutation(m, 2)
		q, err := Permute(m, "q", p)
		if err != nil {
			t.Fatal(err)
		}
		x := testImages(c, 4)
		if d := maxAbsDiff(logits(q, x, 4), logits(m, x, 4)); d > 1e-4 {
			t.Errorf("%s: the permuted model's logits differ by %g", v, d)
		}
		if cosine(m, q) > 0.9 {
			t.Errorf("%s: the permutation hardly moved the weights (cosine %v)", v, cosine(m, q))
		}
		// Blocks of the permuted model do not fit the original's stream...
		mixed := m.Sequential()
		mixed[1] = q.Blocks[1]
		if d := maxAbsDiff(vit.NewRunner(m).Logits(x, 4, mixed), logits(m, x, 4)); d < 1e-3 {
			t.Errorf("%s: a block in another basis changed nothing (%g)", v, d)
		}
	}
	m := tinyModel(t, "m", tinyConfig(vit.Shuffle), 1)
	bad := randomPermutation(m, 3)
	bad.Residual[0] = bad.Residual[1]
	if _, err := Permute(m, "x", bad); err == nil || !strings.Contains(err.Error(), "not a permutation") {
		t.Errorf("a non-permutation: %v", err)
	}
}

// Weight matching recovers a planted permutation exactly: aligning a
// permuted copy to the original gives the original's weights.
func TestAlignRecoversPlantedPermutation(t *testing.T) {
	for _, v := range []vit.Variant{vit.Shuffle, vit.ShufflePosition} {
		c := tinyConfig(v)
		c.Dim, c.Heads, c.MLP = 24, 3, 40
		ref := tinyModel(t, "ref", c, 1)
		scrambled, err := Permute(ref, "scr", randomPermutation(ref, 5))
		if err != nil {
			t.Fatal(err)
		}
		aligned, rep, err := Align(ref, scrambled, "al")
		if err != nil {
			t.Fatal(err)
		}
		pr, pa := ref.Params(), aligned.Params()
		for k := range pr {
			for j, x := range pr[k].Data() {
				if pa[k].Data()[j] != x {
					t.Fatalf("%s: %s[%d] = %v after alignment, the reference has %v", v, pa[k].Name, j, pa[k].Data()[j], x)
				}
			}
		}
		if rep.After != 1 && rep.After < 0.999999 || rep.Before > 0.9 || rep.Iterations < 2 {
			t.Errorf("%s: report %+v", v, *rep)
		}
	}
}

// Two independently initialised models: the alignment keeps the aligned
// model's function and makes it more similar to the reference.
func TestAlignIndependentModels(t *testing.T) {
	c := tinyConfig(vit.Shuffle)
	ref, other := tinyModel(t, "a", c, 1), tinyModel(t, "b", c, 2)
	aligned, rep, err := Align(ref, other, "b-al")
	if err != nil {
		t.Fatal(err)
	}
	x := testImages(c, 3)
	if d := maxAbsDiff(logits(aligned, x, 3), logits(other, x, 3)); d > 1e-4 {
		t.Errorf("alignment changed the function by %g", d)
	}
	if rep.After <= rep.Before {
		t.Errorf("similarity %v before, %v after", rep.Before, rep.After)
	}
	again, _, _ := Align(ref, other, "b-al")
	pa, pb := aligned.Params(), again.Params()
	for k := range pa {
		for j := range pa[k].Data() {
			if pa[k].Data()[j] != pb[k].Data()[j] {
				t.Fatal("two alignments of the same models differ")
			}
		}
	}
	wide := tinyConfig(vit.Shuffle)
	wide.MLP = 32
	if _, _, err := Align(ref, tinyModel(t, "w", wide, 3), "x"); err == nil {
		t.Error("models of other sizes were aligned")
	}
}

// The similarity the align report gives leaves LayerNorms out: two
// independent models whose LayerNorm weights are all 1 (most of a small
// model's weight norm) are not similar, and LayerNorms do not move it.
func TestCosineLeavesLayerNormsOut(t *testing.T) {
	c := tinyConfig(vit.ShufflePosition)
	fresh := func(name string, seed uint64) *vit.Model { // tinyModel's offsets would correlate them
		m, err := vit.NewModel(name, c)
		if err != nil {
			t.Fatal(err)
		}
		m.Init(seed)
		return m
	}
	a, b := fresh("a", 1), fresh("b", 2)
	setNorms := func(m *vit.Model, w float32) {
		for _, p := range m.Params() {
			if isNormParam(p.Name) && strings.HasSuffix(p.Name, "weight") {
				for j := range p.Data() {
					p.Data()[j] = w
				}
			}
		}
	}
	setNorms(a, 30)
	setNorms(b, 30)
	before := cosine(a, b)
	if before > 0.3 || before < -0.3 {
		t.Errorf("independent models with equal LayerNorms: cosine %v", before)
	}
	setNorms(b, -7)
	if got := cosine(a, b); got != before {
		t.Errorf("changing LayerNorm weights moved the cosine from %v to %v", before, got)
	}
	if got := cosine(a, a); math.Abs(got-1) > 1e-12 {
		t.Errorf("a model with itself: %v", got)
	}
	norms := 0
	for _, p := range a.Params() {
		if isNormParam(p.Name) {
			norms++
		}
	}
	// Per block norm1, norm2 and the slot projection's norm (weight and
	// bias each), and the head's final norm.
	if want := 2 * (3*c.Depth + 1); norms != want {
		t.Errorf("%d LayerNorm parameters, want %d", norms, want)
	}
	for name, want := range map[string]bool{"norm1.weight": true, "pos_proj.norm.bias": true, "norm.weight": true,
		"attn.qkv.weight": false, "pos_proj.fc.weight": false, "cls_token": false} {
		if isNormParam(name) != want {
			t.Errorf("isNormParam(%q) = %v", name, !want)
		}
	}
}
