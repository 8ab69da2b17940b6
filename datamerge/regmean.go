package datamerge

import (
	"fmt"
	"math"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/frankenvit/frankenvit/vit"
	"github.com/frankenvit/frankenvit/vit/kernels"
)

// DefaultImages is how many images of each source Fisher and RegMean read
// when the options leave it zero.
const DefaultImages = 256

// DefaultAlpha is RegMean's off-diagonal scale (Jin et al. 2023 use 0.9).
const DefaultAlpha = 0.9

// AlphaDiagonal asks RegMean for alpha 0 (the Gram matrices' diagonals only),
// since the zero Alpha selects DefaultAlpha.
const AlphaDiagonal = -1

// DefaultRidge is RegMean's relative ridge; see RegMeanOptions.Ridge.
const DefaultRidge = 1e-8

// statBatch is how many images one statistics forward pass holds.
const statBatch = 32

// statWorkers is how many sources (RegMean) or samples (Fisher) run side by
// side; fixed, so that nothing depends on the machine.
const statWorkers = 2

// RegMeanOptions configure RegMean.
type RegMeanOptions struct {
	// Images is how many images of each source's data are read, the first
	// ones (0: DefaultImages).
	Images int
	// Alpha scales the Gram matrices' off-diagonal entries, in (0, 1]
	// (0: DefaultAlpha; AlphaDiagonal: exactly 0). Below 1 it keeps the
	// solve well conditioned and pulls the merge toward a per-feature
	// weighted average.
	Alpha float64
	// Ridge, relative to the mean diagonal of the summed Gram matrix, is
	// added to it, and the same multiple of the plain average to the right
	// side: min sum_i ||X_i(W-W_i)^T||^2 + r||W-avg||^2. Input directions no
	// source ever excites (a singular sum, e.g. LayerNorm outputs with
	// alpha 1) thus take the plain average instead of failing the solve;
	// elsewhere it changes the result by about Ridge. 0: DefaultRidge.
	Ridge float64
}

func (o RegMeanOptions) withDefaults() (RegMeanOptions, error) {
	if o.Images == 0 {
		o.Images = DefaultImages
	}
	switch {
	case o.Alpha == 0:
		o.Alpha = DefaultAlpha
	case o.Alpha == AlphaDiagonal:
		o.Alpha = 0
	case !(o.Alpha > 0 && o.Alpha <= 1):
		return o, fmt.Errorf("regmean: alpha %g is outside (0, 1]", o.Alpha)
	}
	if o.Ridge == 0 {
		o.Ridge = DefaultRidge
	}
	if o.Images < 0 || !(o.Ridge > 0) || math.IsInf(o.Ridge, 0) {
		return o, fmt.Errorf("regmean: images %d and ridge %g must be positive", o.Images, o.Ridge)
	}
	return o, nil
}

// RegMean merges the sources in closed form (Jin et al. 2023): every linear
// layer of every block (attn.qkv, attn.proj, mlp.fc1, mlp.fc2, and
// pos_proj.fc and pos_head.fc where present) and the classifier get the
// weight W minimising sum_i ||X_i W^T - X_i W_i^T||^2, X_i the layer's inputs
// (one row per token) as source i computes them on opt.Images images of its
// own data in its sequential plan, with the Gram matrices' off-diagonals
// scaled by alpha. Biases, LayerNorms and embeddings are averaged.
func RegMean(name string, sources []Source, opt RegMeanOptions) (*vit.Model, error) {
	opt, err := opt.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := statSources("regmean", sources, opt.Images, false); err != nil {
		return nil, err
	}
	grams := make([]map[string]*mat.SymDense, len(sources))
	errs := make([]error, len(sources))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < statWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				grams[i], errs[i] = sourceGrams(sources[i], opt.Images, kernels.Share(statWorkers))
			}
		}()
	}
	for i := range sources {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("regmean: model %s: %w", sources[i].Model.Name, err)
		}
	}
	out, err := averageModel(name, sources)
	if err != nil {
		return nil, fmt.Errorf("regmean: %w", err)
	}
	for key, w := range linearLayers(out) {
		ws := make([]*vit.Param, len(sources))
		gs := make([]*mat.SymDense, len(sources))
		for i, s := range sources {
			ws[i] = linearLayers(s.Model)[key]
			gs[i] = grams[i][key]
		}
		if err := solveRegMean(w, ws, gs, opt.Alpha, opt.Ridge); err != nil {
			return nil, fmt.Errorf("regmean: %s: %w", key, err)
		}
	}
	return out, nil
}

// solveRegMean writes into dst the RegMean weight of the layer whose
// per-source weights are ws [out, in] and Gram matrices gs [in, in].
func solveRegMean(dst *vit.Param, ws []*vit.Param, gs []*mat.SymDense, alpha, ridge float64) error {
	out, in := dst.Shape[0], dst.Shape[1]
	sum := mat.NewSymDense(in, nil)
	rhs := mat.NewDense(in, out, nil)
	scaled := mat.NewSymDense(in, nil)
	var prod mat.Dense
	for i, g := range gs {
		for a := 0; a < in; a++ {
			for b := a; b < in; b++ {
				v := g.At(a, b)
				if a != b {
					v *= alpha
				}
				scaled.SetSym(a, b, v)
			}
		}
		sum.AddSym(sum, scaled)
		prod.Mul(scaled, transposed(ws[i], out, in))
		rhs.Add(rhs, &prod)
	}
	trace := 0.0
	for a := 0; a < in; a++ {
		trace += sum.At(a, a)
	}
	r := ridge * trace / float64(in)
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return fmt.Errorf("the layer's inputs are not finite")
	}
	if r == 0 { // no source ever feeds the layer: nothing to fit
		return nil // dst already holds the plain average
	}
	avg := transposed(dst, out, in)
	avg.Scale(r, avg)
	rhs.Add(rhs, avg)
	for a := 0; a < in; a++ {
		sum.SetSym(a, a, sum.At(a, a)+r)
	}
	var chol mat.Cholesky
	if !chol.Factorize(sum) {
		return fmt.Errorf("the summed Gram matrix is not positive definite even with a ridge of %g", r)
	}
	var sol mat.Dense
	if err := chol.SolveTo(&sol, rhs); err != nil {
		return err
	}
	d := dst.Data()
	for o := 0; o < out; o++ {
		for a := 0; a < in; a++ {
			d[o*in+a] = float32(sol.At(a, o))
		}
	}
	return nil
}

// transposed is W^T [in, out] in float64.
func transposed(w *vit.Param, out, in int) *mat.Dense {
	t := mat.NewDense(in, out, nil)
	d := w.Data()
	for o := 0; o < out; o++ {
		for a := 0; a < in; a++ {
			t.Set(a, o, float64(d[o*in+a]))
		}
	}
	return t
}

// linearLayers names the weights RegMean solves for: "blocks.{i}.{layer}"
// (the layers of vit.LinearInput) and "head".
func linearLayers(m *vit.Model) map[string]*vit.Param {
	out := map[string]*vit.Param{"head": m.Head.W}
	for i, bl := range m.Blocks {
		p := fmt.Sprintf("blocks.%d.", i)
		out[p+"attn.qkv"], out[p+"attn.proj"] = bl.QkvW, bl.ProjW
		out[p+"mlp.fc1"], out[p+"mlp.fc2"] = bl.Fc1W, bl.Fc2W
		if bl.PosProj != nil {
			out[p+"pos_proj.fc"] = bl.PosProj.FcW
		}
		if bl.PosHead != nil {
			out[p+"pos_head.fc"] = bl.PosHead.FcW
		}
	}
	return out
}

// sourceGrams is X^T X of every linear layer's inputs over the first n
// images of s.Data in s.Model's sequential plan, keyed as linearLayers.
func sourceGrams(s Source, n int, workers kernels.Workers) (map[string]*mat.SymDense, error) {
	m := s.Model
	r := vit.NewRunner(m)
	r.Workers = workers
	plan := m.Sequential()
	grams := map[string]*mat.SymDense{}
	var x64 []float64
	for lo := 0; lo < n; lo += statBatch {
		hi := min(n, lo+statBatch)
		x, _, err := statImages(s, lo, hi, false)
		if err != nil {
			return nil, err
		}
		r.LinearInputs(x, hi-lo, plan, func(li vit.LinearInput) {
			key := "head"
			if li.Block != nil {
				key = fmt.Sprintf("blocks.%d.%s", li.Slot, li.Layer)
			}
			g := grams[key]
			if g == nil {
				g = mat.NewSymDense(li.In, nil)
				grams[key] = g
			}
			// in float64 (gonum's rank-k update): a float32 Gram is not
			// positive semi-definite to the precision the solve needs
			x64 = growF64(x64, li.Rows*li.In)
			for j, v := range li.X[:li.Rows*li.In] {
				x64[j] = float64(v)
			}
			g.SymRankK(g, 1, mat.NewDense(li.Rows, li.In, x64).T())
		})
	}
	if len(grams) != len(linearLayers(m)) {
		return nil, fmt.Errorf("saw %d linear layers, want %d", len(grams), len(linearLayers(m)))
	}
	return grams, nil
}

func growF64(b []float64, n int) []float64 {
	if cap(b) < n {
		return make([]float64, n)
	}
	return b[:n]
}
