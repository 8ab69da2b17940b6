package analysis

import (
	"fmt"
	"math"

	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/vit/kernels"
	"gonum.org/v1/gonum/mat"
)

// LinearCKA is the linear centred kernel alignment (Kornblith et al. 2019)
// of two representations of the same n examples, x [n, p] and y [n, q]:
//
//	||Yc' Xc||²_F / (||Xc' Xc||_F ||Yc' Yc||_F)
//
// with Xc, Yc the column-centred matrices. It is 1 for a representation and
// any rotation, reflection or isotropic scaling of it, and near 0 (about
// p·q/n for Gaussian noise) for independent ones. It is NaN when either
// representation is constant. x and y must have the same number of rows.
func LinearCKA(x, y mat.Matrix) float64 {
	xr, _ := x.Dims()
	yr, _ := y.Dims()
	if xr != yr {
		panic(fmt.Sprintf("analysis: LinearCKA of %d and %d examples", xr, yr))
	}
	xc, yc := centred(x), centred(y)
	return crossCKA(xc, yc, selfNorm(xc), selfNorm(yc))
}

// CKAMatrix is the linear CKA of every pair of representations of the same
// examples; a nil entry gives NaN in its row and column, and no entries give
// nil. Each representation is centred once, so the cost is one p x q product
// per pair.
func CKAMatrix(reps []mat.Matrix) *mat.SymDense {
	n := len(reps)
	if n == 0 {
		return nil
	}
	// Representations, then pairs, on every core: each value is computed on
	// its own, so the matrix is the same whoever computes which.
	cs, norms := make([]*mat.Dense, n), make([]float64, n)
	kernels.Parallel(n, 1, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			if reps[i] != nil {
				cs[i] = centred(reps[i])
				norms[i] = selfNorm(cs[i])
			}
		}
	})
	var pairs [][2]int
	for i := 0; i < n; i++ {
		for j := i; j < n; j++ {
			pairs = append(pairs, [2]int{i, j})
		}
	}
	values := make([]float64, len(pairs))
	kernels.Parallel(len(pairs), 1, func(lo, hi int) {
		for k := lo; k < hi; k++ {
			i, j := pairs[k][0], pairs[k][1]
			values[k] = math.NaN()
			if cs[i] != nil && cs[j] != nil {
				values[k] = crossCKA(cs[i], cs[j], norms[i], norms[j])
			}
		}
	})
	out := mat.NewSymDense(n, nil)
	for k, p := range pairs {
		out.SetSym(p[0], p[1], values[k])
	}
	return out
}

// centred copies m with every column's mean subtracted.
func centred(m mat.Matrix) *mat.Dense {
	r, c := m.Dims()
	out := mat.DenseCopyOf(m)
	for j := 0; j < c; j++ {
		var mean float64
		for i := 0; i < r; i++ {
			mean += out.At(i, j)
		}
		mean /= float64(r)
		for i := 0; i < r; i++ {
			out.Set(i, j, out.At(i, j)-mean)
		}
	}
	return out
}

// selfNorm is ||X' X||_F of a centred X.
func selfNorm(xc *mat.Dense) float64 {
	var g mat.Dense
	g.Mul(xc.T(), xc)
	return mat.Norm(&g, 2)
}

func crossCKA(xc, yc *mat.Dense, nx, ny float64) float64 {
	if nx == 0 || ny == 0 {
		return math.NaN()
	}
	var g mat.Dense
	g.Mul(yc.T(), xc)
	f := mat.Norm(&g, 2)
	return f * f / (nx * ny)
}

// CKA compares the outputs of every (block, slot) cell on the same images.
// A cell's representation is its output per image, averaged over the random
// orders that ran that block in that slot.
type CKA struct {
	// Matrix is cells x cells, the cells ordered by slot, then block, so the
	// squares along its diagonal hold the blocks of one slot.
	Matrix Grid `json:"matrix"`
	// SameBlock[b] is the mean CKA between block b's outputs at two different
	// slots: near 1 when the block does the same thing wherever it runs.
	SameBlock Vector `json:"same_block"`
	// SameSlot[s] is the mean CKA between two different blocks' outputs at
	// slot s: near 1 when the slot, not the block, fixes the representation.
	SameSlot Vector `json:"same_slot"`
	Images   int    `json:"images"`
}

// cellName names the cell of block b at slot s.
func cellName(b, s int) string { return fmt.Sprintf("b%d@s%d", b, s) }

func linearCKA(cells [][]*mat.Dense, depth, images int) CKA {
	var names []string
	var reps []mat.Matrix
	for s := 0; s < depth; s++ {
		for b := 0; b < depth; b++ {
			names = append(names, cellName(b, s))
			if cells[b][s] != nil {
				reps = append(reps, cells[b][s])
			} else {
				reps = append(reps, nil)
			}
		}
	}
	sym := CKAMatrix(reps)
	res := CKA{Matrix: NewGrid(names, names), SameBlock: make(Vector, depth), SameSlot: make(Vector, depth), Images: images}
	for i := range names {
		for j := range names {
			res.Matrix.Values[i][j] = sym.At(i, j)
		}
	}
	cell := func(b, s int) int { return s*depth + b }
	for x := 0; x < depth; x++ {
		var block, slot []float64
		for u := 0; u < depth; u++ {
			for v := u + 1; v < depth; v++ {
				if c := sym.At(cell(x, u), cell(x, v)); !math.IsNaN(c) {
					block = append(block, c) // block x at slots u and v
				}
				if c := sym.At(cell(u, x), cell(v, x)); !math.IsNaN(c) {
					slot = append(slot, c) // blocks u and v at slot x
				}
			}
		}
		res.SameBlock[x], _ = stats.MeanStd(block)
		res.SameSlot[x], _ = stats.MeanStd(slot)
	}
	return res
}
