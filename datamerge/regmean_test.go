package datamerge

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/internal/vittest"
	"github.com/frankenvit/frankenvit/vit"
)

// statModel is a tiny two-block model of variant v (vittest.TinyModel).
func statModel(t testing.TB, name string, v vit.Variant, seed uint64) *vit.Model {
	return vittest.TinyModel(t, name, 2, v, seed)
}

func statSource(m *vit.Model, n int, seed uint64) Source {
	d := synth.NoiseSplit(n, 1, 8, 8, 4, rand.New(rand.NewPCG(seed, 3)))
	return Source{Model: m, Data: d, Norm: dataset.ComputeNormalization(d)}
}

// maxRelDiff is max |a-b| / (max |b| + tiny) over two models' parameters.
func maxRelDiff(t *testing.T, a, b *vit.Model) (float64, string) {
	t.Helper()
	pa, pb := a.Params(), b.Params()
	worst, where := 0.0, ""
	for k := range pa {
		scale := 1e-6
		for _, v := range pb[k].Data() {
			scale = max(scale, math.Abs(float64(v)))
		}
		for j := range pa[k].Data() {
			d := math.Abs(float64(pa[k].Data()[j]-pb[k].Data()[j])) / scale
			if d > worst || math.IsNaN(d) {
				worst, where = d, pa[k].Name
			}
		}
	}
	return worst, where
}

func TestRegMeanOfOneSourceIsItself(t *testing.T) {
	for _, v := range []vit.Variant{vit.Baseline, vit.ShufflePosition, vit.ShufflePredict} {
		m := statModel(t, "a", v, 1)
		for _, alpha := range []float64{0, 1, AlphaDiagonal} {
			got, err := RegMean("out", []Source{statSource(m, 12, 1)}, RegMeanOptions{Images: 12, Alpha: alpha})
			if err != nil {
				t.Fatal(err)
			}
			if d, where := maxRelDiff(t, got, m); d > 1e-4 {
				t.Errorf("%s alpha %g: RegMean of one source differs from it by %g (relative) at %s", v, alpha, d, where)
			}
		}
	}
}

// normalEquations solves sum_i G_i W^T = sum_i G_i W_i^T for W [out, in],
// G_i = X_i^T X_i with its off-diagonal scaled by alpha, with plain float64
// loops (Gauss-Jordan with partial pivoting), independently of the gonum
// solve under test.
func normalEquations(xs [][]float64, rows []int, ws [][]float64, in, out int, alpha float64) []float64 {
	a := make([][]float64, in) // [in][in + out]: the augmented system
	for r := range a {
		a[r] = make([]float64, in+out)
	}
	for i, x := range xs {
		for p := 0; p < in; p++ {
			for q := 0; q < in; q++ {
				g := 0.0
				for n := 0; n < rows[i]; n++ {
					g += x[n*in+p] * x[n*in+q]
				}
				if p != q {
					g *= alpha
				}
				a[p][q] += g
				for o := 0; o < out; o++ {
					a[p][in+o] += g * ws[i][o*in+q]
				}
			}
		}
	}
	for c := 0; c < in; c++ {
		piv := c
		for r := c + 1; r < in; r++ {
			if math.Abs(a[r][c]) > math.Abs(a[piv][c]) {
				piv = r
			}
		}
		a[c], a[piv] = a[piv], a[c]
		for r := 0; r < in; r++ {
			if r == c {
				continue
			}
			f := a[r][c] / a[c][c]
			for k := c; k < in+out; k++ {
				a[r][k] -= f * a[c][k]
			}
		}
	}
	w := make([]float64, out*in)
	for o := 0; o < out; o++ {
		for p := 0; p < in; p++ {
			w[o*in+p] = a[p][in+o] / a[p][p]
		}
	}
	return w
}

func gramOf(x []float64, rows, in int) *mat.SymDense {
	g := mat.NewSymDense(in, nil)
	for p := 0; p < in; p++ {
		for q := p; q < in; q++ {
			s := 0.0
			for n := 0; n < rows; n++ {
				s += x[n*in+p] * x[n*in+q]
			}
			g.SetSym(p, q, s)
		}
	}
	return g
}

func TestRegMeanSolvesLeastSquaresOfALinearModel(t *testing.T) {
	const in, out = 5, 3
	rng := rand.New(rand.NewPCG(4, 4))
	rows := []int{9, 7}
	var xs, ws [][]float64
	var params []*vit.Param
	var grams []*mat.SymDense
	for i := range rows {
		x := make([]float64, rows[i]*in)
		for j := range x {
			x[j] = rng.NormFloat64() * float64(1+j%in) // features of different scales
		}
		w := &vit.Param{Name: "w", Shape: []int{out, in}, Value: make([]float32, out*in), Grad: make([]float32, out*in)}
		wf := make([]float64, out*in)
		for j := range wf {
			w.Value[j] = float32(rng.NormFloat64())
			wf[j] = float64(w.Value[j])
		}
		xs, ws, params, grams = append(xs, x), append(ws, wf), append(params, w), append(grams, gramOf(x, rows[i], in))
	}
	// alpha 1 is the least-squares problem itself; below 1, the problem
	// with the scaled Gram matrices (alpha 0: a per-feature weighted average)
	for _, alpha := range []float64{1, 0.5, 0} {
		dst := &vit.Param{Name: "w", Shape: []int{out, in}, Value: make([]float32, out*in), Grad: make([]float32, out*in)}
		for j := range dst.Value {
			dst.Value[j] = (params[0].Value[j] + params[1].Value[j]) / 2
		}
		if err := solveRegMean(dst, params, grams, alpha, DefaultRidge); err != nil {
			t.Fatal(err)
		}
		want := normalEquations(xs, rows, ws, in, out, alpha)
		avgDiff := 0.0
		for j, v := range want {
			if math.Abs(float64(dst.Value[j])-v) > 1e-5*(1+math.Abs(v)) {
				t.Fatalf("alpha %g, element %d: RegMean gives %g, the normal equations %g", alpha, j, dst.Value[j], v)
			}
			avgDiff = max(avgDiff, math.Abs(float64(params[0].Value[j]+params[1].Value[j])/2-v))
		}
		if avgDiff < 1e-2 {
			t.Fatalf("alpha %g: the solution is the plain average here (%g): the test proves nothing", alpha, avgDiff)
		}
	}
}

// TestRegMeanBlockLayerEndToEnd checks a whole RegMean run against a
// recomputation: with alpha 1, block 0's qkv weight must solve the normal
// equations of the inputs LN1(embedding) that the test computes itself.
func TestRegMeanBlockLayerEndToEnd(t *testing.T) {
	const n = 6
	srcs := []Source{statSource(statModel(t, "a", vit.Baseline, 1), n, 1), statSource(statModel(t, "b", vit.Baseline, 2), n, 2)}
	got, err := RegMean("out", srcs, RegMeanOptions{Images: n, Alpha: 1})
	if err != nil {
		t.Fatal(err)
	}
	c := srcs[0].Model.Config
	D := c.Dim
	var xs, ws [][]float64
	var rows []int
	for _, s := range srcs {
		x := ln1Inputs(t, s, n)
		xs, rows = append(xs, x), append(rows, n*c.Tokens())
		w := make([]float64, 3*D*D)
		for j, v := range s.Model.Blocks[0].QkvW.Data() {
			w[j] = float64(v)
		}
		ws = append(ws, w)
	}
	want := normalEquations(xs, rows, ws, D, 3*D, 1)
	for j, v := range want {
		if g := float64(got.Blocks[0].QkvW.Data()[j]); math.Abs(g-v) > 1e-3*(1+math.Abs(v)) {
			t.Fatalf("blocks.0.attn.qkv element %d: RegMean gives %g, the normal equations %g", j, g, v)
		}
	}
	// biases are averaged
	for j, v := range got.Blocks[1].Fc1B.Data() {
		if a := (srcs[0].Model.Blocks[1].Fc1B.Data()[j] + srcs[1].Model.Blocks[1].Fc1B.Data()[j]) / 2; math.Abs(float64(v-a)) > 1e-6 {
			t.Fatalf("blocks.1.mlp.fc1.bias %d: %g, want the average %g", j, v, a)
		}
	}
}

// ln1Inputs recomputes by hand LN1 of block 0 on the embedded tokens of the
// first n images of s: rows [n*T, D] in float64.
func ln1Inputs(t *testing.T, s Source, n int) []float64 {
	t.Helper()
	m := s.Model
	c := m.Config
	T, D := c.Tokens(), c.Dim
	x, _, _ := statImages(s, 0, n, false)
	h := make([]float32, n*T*D)
	vit.NewRunner(m).Embed(h, x, n)
	w, b := m.Blocks[0].Norm1W.Data(), m.Blocks[0].Norm1B.Data()
	out := make([]float64, n*T*D)
	for r := 0; r < n*T; r++ {
		row := h[r*D : (r+1)*D]
		mean := 0.0
		for _, v := range row {
			mean += float64(v)
		}
		mean /= float64(D)
		vr := 0.0
		for _, v := range row {
			vr += (float64(v) - mean) * (float64(v) - mean)
		}
		vr /= float64(D)
		for j, v := range row {
			out[r*D+j] = (float64(v)-mean)/math.Sqrt(vr+vit.LayerNormEps)*float64(w[j]) + float64(b[j])
		}
	}
	return out
}

func TestGramCaptureEqualsRecomputedLayerInput(t *testing.T) {
	const n = 40 // two statistics batches, the second partial
	s := statSource(statModel(t, "a", vit.ShufflePosition, 3), n, 3)
	grams, err := sourceGrams(s, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Model.Config
	want := gramOf(ln1Inputs(t, s, n), n*c.Tokens(), c.Dim)
	// ShufflePosition: block 0's qkv sees LN1 of the slot projection's output, not the embedding.
	if g := grams["blocks.0.attn.qkv"]; mat.EqualApprox(g, want, 1e-3) {
		t.Fatal("the slot projection's output should differ from the embedding")
	}
	b := statSource(statModel(t, "b", vit.Baseline, 3), n, 3)
	grams, err = sourceGrams(b, n, 1)
	if err != nil {
		t.Fatal(err)
	}
	want = gramOf(ln1Inputs(t, b, n), n*c.Tokens(), c.Dim)
	g := grams["blocks.0.attn.qkv"]
	for p := 0; p < c.Dim; p++ {
		for q := 0; q < c.Dim; q++ {
			if d := math.Abs(g.At(p, q) - want.At(p, q)); d > 1e-4*(1+math.Abs(want.At(p, q))) {
				t.Fatalf("Gram of blocks.0.attn.qkv [%d,%d]: captured %g, recomputed %g", p, q, g.At(p, q), want.At(p, q))
			}
		}
	}
	if len(grams) != 4*c.Depth+1 {
		t.Fatalf("%d Gram matrices, want %d", len(grams), 4*c.Depth+1)
	}
}

func TestRegMeanBadInput(t *testing.T) {
	a := statSource(statModel(t, "a", vit.Baseline, 1), 8, 1)
	cfg := a.Model.Config
	cfg.Dim, cfg.MLP = 32, 48
	wideM, err := vit.NewModel("wide", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		sources []Source
		opt     RegMeanOptions
		want    string
	}{
		{"no sources", nil, RegMeanOptions{}, "no sources"},
		{"widths", []Source{a, statSource(wideM, 8, 2)}, RegMeanOptions{Images: 8}, "wide"},
		{"nil data", []Source{a, {Model: statModel(t, "b", vit.Baseline, 2)}}, RegMeanOptions{Images: 8}, "model b has no data"},
		{"too many images", []Source{a}, RegMeanOptions{Images: 9}, "8 images, 9 asked"},
		{"default images beyond the data", []Source{a}, RegMeanOptions{}, "8 images, 256 asked"},
		{"alpha", []Source{a}, RegMeanOptions{Images: 8, Alpha: 1.5}, "alpha"},
		{"nil model", []Source{a, {}}, RegMeanOptions{Images: 8}, "source 1 has no model"},
	} {
		_, err := RegMean("out", tc.sources, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got error %v, want one line containing %q", tc.name, err, tc.want)
		}
	}
}
