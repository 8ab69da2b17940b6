package merge

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/frankenvit/frankenvit/vit"
)

// Permutation maps the hidden units of a model onto a reference's: unit i
// of the permuted model is unit P[i] of the original, for every P below.
type Permutation struct {
	// Residual permutes the residual stream (embedding width D) of the
	// whole model: patch embedding, class and position embeddings, every
	// LayerNorm, the blocks' inputs and outputs, the classifier's input.
	Residual []int              `json:"residual"`
	Blocks   []BlockPermutation `json:"blocks"`
}

// BlockPermutation permutes the units inside one block. QK and V are over
// the D rows of q/k and of v; they move whole heads (Heads) and permute
// dimensions only within a head, which is what leaves attention unchanged.
type BlockPermutation struct {
	Heads []int `json:"heads"`
	QK    []int `json:"qk"`
	V     []int `json:"v"`
	MLP   []int `json:"mlp"`
}

// AlignedModel reports one alignment.
type AlignedModel struct {
	Name       string      `json:"name"`
	Source     string      `json:"source"`
	Reference  string      `json:"reference"`
	Iterations int         `json:"iterations"`
	Before     float64     `json:"similarity_before"` // cosine of the weights (LayerNorms left out) with the reference's
	After      float64     `json:"similarity_after"`
	Perm       Permutation `json:"permutation"`
}

// AlignResult reports an align merge.
type AlignResult struct {
	Reference string         `json:"reference"`
	Models    []AlignedModel `json:"models"`
}

// view is a 2-D window of a tensor: element (r, c) is
// data[(row0+r)*ld + col0 + c]. rowGroup and colGroup name the permutation
// of each axis (-1: none).
type view struct {
	data               []float32
	rows, cols         int
	row0, col0, ld     int
	rowGroup, colGroup int
}

func (v view) at(r, c int) float32 { return v.data[(v.row0+r)*v.ld+v.col0+c] }
func (v view) set(r, c int, x float32) {
	v.data[(v.row0+r)*v.ld+v.col0+c] = x
}

// groups of a model of depth L: 0 the residual stream, then per block k
// 1+3k (q/k), 2+3k (v), 3+3k (MLP units).
func groupQK(k int) int  { return 1 + 3*k }
func groupV(k int) int   { return 2 + 3*k }
func groupMLP(k int) int { return 3 + 3*k }

const groupResidual = 0

// views lists every tensor window that has a permuted axis, in a fixed
// order; models of the same shapes give matching lists.
func views(m *vit.Model) []view {
	D := m.Config.Dim
	vec := func(d []float32, off, n, g int) view {
		return view{data: d, rows: n, cols: 1, row0: off, ld: 1, rowGroup: g, colGroup: -1}
	}
	mat := func(d []float32, rows, cols, row0, col0, ld, rg, cg int) view {
		return view{data: d, rows: rows, cols: cols, row0: row0, col0: col0, ld: ld, rowGroup: rg, colGroup: cg}
	}
	st := m.Stem
	cpp := m.Config.PatchSize()
	out := []view{
		mat(st.PatchW.Data(), D, cpp, 0, 0, cpp, groupResidual, -1),
		vec(st.PatchB.Data(), 0, D, groupResidual),
		vec(st.Cls.Data(), 0, D, groupResidual),
		mat(st.Pos.Data(), m.Config.Tokens(), D, 0, 0, D, -1, groupResidual),
	}
	for k, b := range m.Blocks {
		M := b.MLP
		out = append(out,
			vec(b.Norm1W.Data(), 0, D, groupResidual), vec(b.Norm1B.Data(), 0, D, groupResidual),
			mat(b.QkvW.Data(), D, D, 0, 0, D, groupQK(k), groupResidual),
			mat(b.QkvW.Data(), D, D, D, 0, D, groupQK(k), groupResidual),
			mat(b.QkvW.Data(), D, D, 2*D, 0, D, groupV(k), groupResidual),
			vec(b.QkvB.Data(), 0, D, groupQK(k)), vec(b.QkvB.Data(), D, D, groupQK(k)), vec(b.QkvB.Data(), 2*D, D, groupV(k)),
			mat(b.ProjW.Data(), D, D, 0, 0, D, groupResidual, groupV(k)),
			vec(b.ProjB.Data(), 0, D, groupResidual),
			vec(b.Norm2W.Data(), 0, D, groupResidual), vec(b.Norm2B.Data(), 0, D, groupResidual),
			mat(b.Fc1W.Data(), M, D, 0, 0, D, groupMLP(k), groupResidual),
			vec(b.Fc1B.Data(), 0, M, groupMLP(k)),
			mat(b.Fc2W.Data(), D, M, 0, 0, M, groupResidual, groupMLP(k)),
			vec(b.Fc2B.Data(), 0, D, groupResidual),
		)
		if pp := b.PosProj; pp != nil {
			P := D + b.PosDim
			// Only the first D inputs are the residual stream; the slot
			// embedding's P inputs keep their order.
			out = append(out, vec(pp.NormW.Data(), 0, D, groupResidual), vec(pp.NormB.Data(), 0, D, groupResidual),
				mat(pp.FcW.Data(), D, D, 0, 0, P, groupResidual, groupResidual),
				mat(pp.FcW.Data(), D, b.PosDim, 0, D, P, groupResidual, -1),
				vec(pp.FcB.Data(), 0, D, groupResidual))
		}
		if ph := b.PosHead; ph != nil {
			out = append(out, vec(ph.NormW.Data(), 0, D, groupResidual), vec(ph.NormB.Data(), 0, D, groupResidual),
				mat(ph.FcW.Data(), b.Slots, D, 0, 0, D, -1, groupResidual))
		}
	}
	h := m.Head
	return append(out, vec(h.NormW.Data(), 0, D, groupResidual), vec(h.NormB.Data(), 0, D, groupResidual),
		mat(h.W.Data(), m.Config.Classes, D, 0, 0, D, -1, groupResidual))
}

// groupSizes is the length of every permutation of m.
func groupSizes(m *vit.Model) []int {
	sizes := []int{m.Config.Dim}
	for _, b := range m.Blocks {
		sizes = append(sizes, b.Dim, b.Dim, b.MLP)
	}
	return sizes
}

func identityPerms(sizes []int) [][]int {
	out := make([][]int, len(sizes))
	for g, n := range sizes {
		out[g] = make([]int, n)
		for i := range out[g] {
			out[g][i] = i
		}
	}
	return out
}

func (p Permutation) groups() [][]int {
	out := [][]int{p.Residual}
	for _, b := range p.Blocks {
		out = append(out, b.QK, b.V, b.MLP)
	}
	return out
}

func permutationOf(groups [][]int, heads [][]int) Permutation {
	p := Permutation{Residual: groups[groupResidual]}
	for k := 0; 1+3*k < len(groups); k++ {
		p.Blocks = append(p.Blocks, BlockPermutation{Heads: heads[k], QK: groups[groupQK(k)], V: groups[groupV(k)], MLP: groups[groupMLP(k)]})
	}
	return p
}

// Permute returns a copy of m named name with its units permuted by p. The
// copy computes the same function as m (up to float rounding).
func Permute(m *vit.Model, name string, p Permutation) (*vit.Model, error) {
	sizes := groupSizes(m)
	groups := p.groups()
	if len(groups) != len(sizes) {
		return nil, fmt.Errorf("the permutation is for %d blocks, model %s has %d", len(p.Blocks), m.Name, len(m.Blocks))
	}
	for g, perm := range groups {
		if len(perm) != sizes[g] || !isPermutation(perm) {
			return nil, fmt.Errorf("permutation %d of model %s: not a permutation of 0..%d", g, m.Name, sizes[g]-1)
		}
	}
	out, err := Average(name, m) // a copy with the same parts
	if err != nil {
		return nil, err
	}
	applyPerms(views(m), views(out), groups)
	return out, nil
}

// applyPerms writes dst(r, c) = src(P_row[r], P_col[c]) for every view.
func applyPerms(src, dst []view, groups [][]int) {
	for t, s := range src {
		d := dst[t]
		for r := 0; r < s.rows; r++ {
			sr := r
			if s.rowGroup >= 0 {
				sr = groups[s.rowGroup][r]
			}
			for c := 0; c < s.cols; c++ {
				sc := c
				if s.colGroup >= 0 {
					sc = groups[s.colGroup][c]
				}
				d.set(r, c, s.at(sr, sc))
			}
		}
	}
}

func isPermutation(p []int) bool {
	seen := make([]bool, len(p))
	for _, j := range p {
		if j < 0 || j >= len(p) || seen[j] {
			return false
		}
		seen[j] = true
	}
	return true
}

// maxAlignIterations bounds the coordinate ascent; it stops earlier when no
// permutation changes.
const maxAlignIterations = 100

// Align finds, by weight matching (Ainsworth et al. 2022), the permutation
// of other's units that makes its weights most similar to ref's, and
// returns other permuted by it, named name. The block at plan position i
// of other is matched to ref's block i. Coordinate ascent: each step solves
// one permutation exactly (a linear assignment) with the others fixed; the
// residual stream's permutation is shared by the whole model, and per
// block the attention heads with the dimensions inside each head (q and k
// together, v with the projection's inputs) and the MLP units.
func Align(ref, other *vit.Model, name string) (*vit.Model, *AlignedModel, error) {
	if err := vit.SameShapes(ref, other); err != nil {
		return nil, nil, fmt.Errorf("cannot align: %v", err)
	}
	if ref.Config.Heads != other.Config.Heads || ref.Config.Dim%ref.Config.Heads != 0 {
		return nil, nil, errors.New("cannot align: the models' heads differ")
	}
	rv, ov := views(ref), views(other)
	sizes := groupSizes(other)
	groups := identityPerms(sizes)
	heads := make([][]int, len(other.Blocks))
	for k := range heads {
		heads[k] = identityPerms([]int{other.Config.Heads})[0]
	}
	H := other.Config.Heads
	iter := 0
	for iter = 1; iter <= maxAlignIterations; iter++ {
		changed := false
		update := func(g int, p []int) {
			if !slices.Equal(groups[g], p) {
				groups[g], changed = p, true
			}
		}
		update(groupResidual, maxAssignment(similarity(rv, ov, groups, groupResidual, sizes[groupResidual])))
		for k := range other.Blocks {
			qk, v, h := headAssignment(similarity(rv, ov, groups, groupQK(k), sizes[groupQK(k)]),
				similarity(rv, ov, groups, groupV(k), sizes[groupV(k)]), H)
			update(groupQK(k), qk)
			update(groupV(k), v)
			heads[k] = h
			update(groupMLP(k), maxAssignment(similarity(rv, ov, groups, groupMLP(k), sizes[groupMLP(k)])))
		}
		if !changed {
			break
		}
	}
	perm := permutationOf(groups, heads)
	aligned, err := Permute(other, name, perm)
	if err != nil {
		return nil, nil, err
	}
	return aligned, &AlignedModel{Name: name, Source: other.Name, Reference: ref.Name, Iterations: min(iter, maxAlignIterations),
		Before: cosine(ref, other), After: cosine(ref, aligned), Perm: perm}, nil
}

// similarity is the matrix S[i][j] = <ref with unit i of group g, other
// with unit j of group g>, summed over every view with an axis in g, the
// other axes permuted as groups says.
func similarity(rv, ov []view, groups [][]int, g, n int) [][]float64 {
	s := make([][]float64, n)
	for i := range s {
		s[i] = make([]float64, n)
	}
	for t, r := range rv {
		o := ov[t]
		if r.rowGroup == g {
			for i := 0; i < r.rows; i++ {
				for j := 0; j < r.rows; j++ {
					sum := 0.0
					for c := 0; c < r.cols; c++ {
						oc := c
						if r.colGroup >= 0 {
							oc = groups[r.colGroup][c]
						}
						sum += float64(r.at(i, c)) * float64(o.at(j, oc))
					}
					s[i][j] += sum
				}
			}
		}
		if r.colGroup == g {
			for i := 0; i < r.cols; i++ {
				for j := 0; j < r.cols; j++ {
					sum := 0.0
					for row := 0; row < r.rows; row++ {
						or := row
						if r.rowGroup >= 0 {
							or = groups[r.rowGroup][row]
						}
						sum += float64(r.at(row, i)) * float64(o.at(or, j))
					}
					s[i][j] += sum
				}
			}
		}
	}
	return s
}

// headAssignment solves the attention permutations of one block: for every
// pair of heads (a of the reference, b of the other) the best matching of
// their q/k dimensions and of their v dimensions, then the best matching of
// heads by the sum of both. It returns the q/k and v permutations over all
// D units and the head permutation.
func headAssignment(sqk, sv [][]float64, heads int) (qk, v, h []int) {
	D := len(sqk)
	dh := D / heads
	type inner struct {
		qk, v []int
		value float64
	}
	best := make([][]inner, heads)
	headScore := make([][]float64, heads)
	for a := 0; a < heads; a++ {
		best[a] = make([]inner, heads)
		headScore[a] = make([]float64, heads)
		for b := 0; b < heads; b++ {
			sub := func(s [][]float64) [][]float64 {
				out := make([][]float64, dh)
				for i := range out {
					out[i] = s[a*dh+i][b*dh : (b+1)*dh]
				}
				return out
			}
			q, vv := sub(sqk), sub(sv)
			pq, pv := maxAssignment(q), maxAssignment(vv)
			best[a][b] = inner{qk: pq, v: pv, value: assignmentValue(q, pq) + assignmentValue(vv, pv)}
			headScore[a][b] = best[a][b].value
		}
	}
	h = maxAssignment(headScore)
	qk, v = make([]int, D), make([]int, D)
	for a, b := range h {
		for i := 0; i < dh; i++ {
			qk[a*dh+i] = b*dh + best[a][b].qk[i]
			v[a*dh+i] = b*dh + best[a][b].v[i]
		}
	}
	return qk, v, h
}

// cosine is the cosine similarity of two models' weights as one vector,
// LayerNorm parameters left out: their weights sit near 1 in every model,
// hold most of a small model's weight norm (80% at the default size) and
// would make any two models look alike whatever their other weights.
func cosine(a, b *vit.Model) float64 {
	var ab, aa, bb float64
	pa, pb := a.Params(), b.Params()
	for k := range pa {
		if isNormParam(pa[k].Name) {
			continue
		}
		for j, x := range pa[k].Data() {
			y := float64(pb[k].Data()[j])
			ab += float64(x) * y
			aa += float64(x) * float64(x)
			bb += y * y
		}
	}
	if aa == 0 || bb == 0 {
		return 0
	}
	return ab / math.Sqrt(aa*bb)
}

// isNormParam says whether a parameter (a timm name such as "norm1.weight"
// or "pos_proj.norm.bias") belongs to a LayerNorm.
func isNormParam(name string) bool {
	for _, seg := range strings.Split(name, ".") {
		if strings.HasPrefix(seg, "norm") {
			return true
		}
	}
	return false
}
