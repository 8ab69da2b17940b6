package methods

// Helpers of the task-vector methods: mergekit's sparsifiers
// (mergekit/sparsify.py: magnitude, bernoulli, magnitude_outliers,
// della_magprune, rescaled_masked_tensor) and its sign election
// (mergekit/merge_methods/generalized_task_arithmetic.py: get_mask), written
// from their definitions. Everything is computed in float64 over the float32
// inputs.

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
)

// sparsifyKind names a mergekit SparsificationMethod.
type sparsifyKind int

const (
	sparsifyNone       sparsifyKind = iota
	sparsifyMagnitude               // "magnitude": keep the int(density*numel) largest |x|
	sparsifyRandom                  // "random": keep each entry with probability density (DARE)
	sparsifyOutliers                // "magnitude_outliers": drop the gamma largest, then the smallest (Breadcrumbs)
	sparsifyDellaPrune              // "della_magprune": keep with a probability rising with the rank of |x| in its row (DELLA)
)

// sparsifyOpts are one model's sparsification parameters.
type sparsifyOpts struct {
	density, gamma, epsilon float64
	rescale                 bool // rescale the kept entries so that the L1 norm is unchanged (mergekit's RescaleNorm.l1)
	shape                   []int
	rng                     *rand.Rand
}

// sparsifyDelta sparsifies one task vector in place of a copy and returns the
// result and the mask it kept (nil when it kept everything unchanged).
func sparsifyDelta(kind sparsifyKind, delta []float64, o sparsifyOpts) ([]float64, []bool, error) {
	if kind == sparsifyNone || o.density >= 1 {
		// mergekit returns the tensor untouched at density >= 1 for every
		// sparsifier (gamma and epsilon are then ignored, and nothing is drawn).
		return delta, nil, nil
	}
	n := len(delta)
	keep := make([]bool, n)
	switch kind {
	case sparsifyMagnitude:
		k := int(o.density * float64(n))
		if k <= 0 {
			return nil, nil, fmt.Errorf("density %g keeps no element of %d (mergekit refuses this too)", o.density, n)
		}
		idx := sparsifyOrder(delta, true)
		for _, i := range idx[:k] {
			keep[i] = true
		}
	case sparsifyRandom:
		for i := range keep {
			keep[i] = o.rng.Float64() < o.density
		}
	case sparsifyOutliers:
		target := int(o.density * float64(n))
		nTop := int(o.gamma * float64(n))
		nBot := n - target - nTop
		if nBot < 0 {
			nTop += nBot
			nBot = 0
		}
		// mergekit keeps indices[n_bot:-n_top] of the ascending order; with
		// n_top = 0 Python's [n_bot:-0] is empty and mergekit keeps nothing,
		// which contradicts its own documentation ("the gamma largest are
		// removed, then the smallest to reach density"). We keep the
		// documented n_bot .. n-n_top.
		idx := sparsifyOrder(delta, false)
		for _, i := range idx[nBot : n-nTop] {
			keep[i] = true
		}
	case sparsifyDellaPrune:
		if o.density <= 0 {
			return make([]float64, n), keep, nil
		}
		if o.density+o.epsilon >= 1 || o.density-o.epsilon <= 0 {
			return nil, nil, fmt.Errorf("epsilon %g with density %g: density +/- epsilon must lie in (0, 1)", o.epsilon, o.density)
		}
		probs := sparsifyDellaProbs(delta, o.shape, o.density, o.epsilon)
		for i := range keep {
			keep[i] = o.rng.Float64() < probs[i]
		}
	default:
		return nil, nil, fmt.Errorf("unknown sparsification %d", kind)
	}
	return sparsifyApplyMask(delta, keep, o.rescale), keep, nil
}

// sparsifyOrder is the order of indices by |x| (descending or ascending),
// ties in index order.
func sparsifyOrder(x []float64, descending bool) []int {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		if descending {
			return math.Abs(x[idx[a]]) > math.Abs(x[idx[b]])
		}
		return math.Abs(x[idx[a]]) < math.Abs(x[idx[b]])
	})
	return idx
}

// sparsifyApplyMask is mergekit's rescaled_masked_tensor with the L1 norm (or
// no rescaling): the masked tensor times |x|_1 / |masked|_1, unless either
// norm is below 1e-7.
func sparsifyApplyMask(x []float64, keep []bool, rescale bool) []float64 {
	out := make([]float64, len(x))
	var before, after float64
	for i, v := range x {
		before += math.Abs(v)
		if keep[i] {
			out[i] = v
			after += math.Abs(v)
		}
	}
	if !rescale || before < 1e-7 || after < 1e-7 {
		return out
	}
	s := before / after
	for i := range out {
		out[i] *= s
	}
	return out
}

// sparsifyDellaProbs are DELLA's keep probabilities: within each row (mergekit
// ranks along dim 1; a 1-D tensor is one row), the element of rank r (1 =
// smallest |x|, ties in index order) of a row of m gets
// density - epsilon + 2*epsilon*(r-1)/(m-1). For a row of one element mergekit
// computes 0/0 and torch.bernoulli fails; we give it the mean, density.
func sparsifyDellaProbs(x []float64, shape []int, density, epsilon float64) []float64 {
	n := len(x)
	outer, m, inner := 1, n, 1
	if len(shape) >= 2 {
		outer, m = shape[0], shape[1]
		inner = 1
		for _, d := range shape[2:] {
			inner *= d
		}
	}
	probs := make([]float64, n)
	row := make([]int, m)
	for o := 0; o < outer; o++ {
		for j := 0; j < inner; j++ {
			for r := 0; r < m; r++ {
				row[r] = (o*m+r)*inner + j
			}
			sort.SliceStable(row, func(a, b int) bool { return math.Abs(x[row[a]]) < math.Abs(x[row[b]]) })
			for pos, i := range row {
				norm := 0.5
				if m > 1 {
					norm = float64(pos) / float64(m-1)
				}
				probs[i] = density - epsilon + norm*2*epsilon
			}
		}
	}
	return probs
}

// consensusKind is mergekit's ConsensusMethod.
type consensusKind int

const (
	consensusNone  consensusKind = iota
	consensusSum                 // "sum": the sign of the sum of the weighted deltas (TIES)
	consensusCount               // "count": the sign of the count of positive minus negative entries
)

// sparsifyElect is mergekit's get_mask: entry e of model i is kept when the
// sign of wd[i][e] equals the elected sign at e, which is +1 when the sum
// (or, for count, the sum of signs) is >= 0 and -1 otherwise. A zero entry has
// sign 0 and so never agrees.
func sparsifyElect(wd [][]float64, method consensusKind) [][]bool {
	n := len(wd[0])
	mask := make([][]bool, len(wd))
	for i := range mask {
		mask[i] = make([]bool, n)
	}
	for e := 0; e < n; e++ {
		var s float64
		for i := range wd {
			if method == consensusCount {
				s += sparsifySign(wd[i][e])
			} else {
				s += wd[i][e]
			}
		}
		major := -1.0
		if s >= 0 {
			major = 1
		}
		for i := range wd {
			mask[i][e] = sparsifySign(wd[i][e]) == major
		}
	}
	return mask
}

func sparsifySign(v float64) float64 {
	switch {
	case v > 0:
		return 1
	case v < 0:
		return -1
	}
	return 0
}

// sparsifyF64 widens a float32 slice.
func sparsifyF64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}
