package methods

// sce: mergekit's SCE (mergekit/merge_methods/sce.py, arXiv:2408.07990), our
// own code. Task vectors tv_i = x_i - base. Select: when select_topk < 1, only
// the positions with the int(select_topk * #nonzero-variance) largest
// variances across the models (population variance) are kept, in every task
// vector. Calculate: weight_i = mean(tv_i^2) / sum_j mean(tv_j^2) (uniform
// when that sum is below 1e-6). Erase: TIES's "sum" sign election on the
// (selected) task vectors. Result: base + sum_i tv_i*w_i*mask_i /
// max(sum_i w_i*mask_i, 1e-6).

import (
	"fmt"
	"math"
)

type sceMethod struct{}

func (sceMethod) Spec() Spec {
	return Spec{
		Name:      "sce",
		NeedsBase: true,
		MinModels: 1,
		Params: []ParamSpec{
			{Name: "select_topk", Default: 1, Min: 0, Max: 1, Doc: "the fraction of positions kept, by variance across the models"},
			{Name: "int8_mask", Bool: true, Default: 0, Min: 0, Max: 1, Doc: "accepted for mergekit compatibility (a memory saving there); no effect"},
		},
		Doc: "SCE (arXiv:2408.07990): select by variance, weight by task-vector energy, erase by sign election",
	}
}

func (m sceMethod) Merge(t Tensor) ([]float32, error) {
	s := m.Spec()
	if t.Base == nil {
		return nil, fmt.Errorf("%s: sce needs a base model", t.Name)
	}
	base := sparsifyF64(t.Base)
	n := len(base)
	if len(t.Data) == 0 {
		return append([]float32(nil), t.Base...), nil
	}
	k := len(t.Data)
	tv := make([][]float64, k)
	for i, x := range t.Data {
		if len(x) != n {
			return nil, fmt.Errorf("%s: model %d has %d values, the base %d", t.Name, i, len(x), n)
		}
		tv[i] = make([]float64, n)
		for e, v := range x {
			tv[i][e] = float64(v) - base[e]
		}
	}
	if topk := t.Value(s, -1, "select_topk"); topk < 1 {
		keep := sceSelect(tv, topk)
		for i := range tv {
			for e := range tv[i] {
				if !keep[e] {
					tv[i][e] = 0
				}
			}
		}
	}
	mask := sparsifyElect(tv, consensusSum)
	w := make([]float64, k)
	var wsum float64
	for i := range tv {
		var sq float64
		for _, v := range tv[i] {
			sq += v * v
		}
		w[i] = sq / float64(n)
		wsum += w[i]
	}
	for i := range w {
		if math.Abs(wsum) < 1e-6 {
			w[i] = 1 / float64(k)
		} else {
			w[i] /= wsum
		}
	}
	out := make([]float32, n)
	for e := 0; e < n; e++ {
		var merged, div float64
		for i := range tv {
			if mask[i][e] {
				merged += tv[i][e] * w[i]
				div += w[i]
			}
		}
		out[e] = float32(base[e] + merged/math.Max(div, 1e-6))
	}
	return out, nil
}

// sceSelect is mergekit's sce_mask: the positions of the int(#nonzero * topk)
// largest variances across the task vectors (ties in index order).
func sceSelect(tv [][]float64, topk float64) []bool {
	n := len(tv[0])
	keep := make([]bool, n)
	if topk <= 0 {
		return keep
	}
	v := make([]float64, n)
	nonzero := 0
	for e := 0; e < n; e++ {
		var mean float64
		for i := range tv {
			mean += tv[i][e]
		}
		mean /= float64(len(tv))
		var ss float64
		for i := range tv {
			d := tv[i][e] - mean
			ss += d * d
		}
		v[e] = ss / float64(len(tv))
		if v[e] != 0 {
			nonzero++
		}
	}
	cnt := int(float64(nonzero) * topk)
	for _, e := range sparsifyOrder(v, true)[:cnt] {
		keep[e] = true
	}
	return keep
}

func init() { Register(sceMethod{}) }
