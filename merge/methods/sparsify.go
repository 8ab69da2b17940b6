package methods

// The task-vector ("generalized task arithmetic") family of mergekit:
// task_arithmetic, ties, dare_linear, dare_ties, breadcrumbs,
// breadcrumbs_ties, della and della_linear. Defined as in mergekit's
// mergekit/merge_methods/generalized_task_arithmetic.py (GTATask.execute),
// mergekit/merge_methods/registry.py (which sparsifier, which consensus and
// which defaults each name has) and mergekit/sparsify.py; our own code.
//
// For each tensor: delta_i = model_i - base; delta_i is sparsified with the
// model's own density (gamma, epsilon); wd_i = weight_i * delta_i. With a
// sign consensus, mask_i = sign(wd_i) == elected sign, merged = sum(wd_i *
// mask_i) and the divisor is sum(weight_i * mask_i) per element (1 where it is
// 0); without, merged = sum(wd_i) and the divisor is sum(weight_i) (1 when
// |sum| < 1e-8). normalize divides merged by the divisor; lambda multiplies
// it; the result is base + merged.

import (
	"fmt"
	"math"
)

type gtaMethod struct {
	name             string
	consensus        consensusKind
	sparsify         sparsifyKind
	defaultNormalize bool
	defaultRescale   bool
	doc              string
}

func gtaBool(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (m gtaMethod) Spec() Spec {
	inf := math.Inf(1)
	ps := []ParamSpec{
		{Name: "weight", PerModel: true, Required: true, Min: -inf, Max: inf, Doc: "the weight of the model's task vector"},
		{Name: "density", PerModel: true, Default: 1, Min: 0, Max: 1, Doc: "the fraction of the task vector's entries kept"},
	}
	if m.sparsify == sparsifyOutliers {
		ps = append(ps, ParamSpec{Name: "gamma", PerModel: true, Default: 0.01, Min: 0, Max: 1, Doc: "the fraction of the largest-magnitude entries removed as outliers"})
	}
	if m.sparsify == sparsifyDellaPrune {
		ps = append(ps, ParamSpec{Name: "epsilon", PerModel: true, Default: 0.15, Min: 0, Max: 1, Doc: "half-width of the keep probabilities, density +/- epsilon by magnitude rank in each row"})
	}
	ps = append(ps,
		ParamSpec{Name: "normalize", Bool: true, Default: gtaBool(m.defaultNormalize), Min: 0, Max: 1, Doc: "divide the merged task vector by the sum of the weights (of the models agreeing with the elected sign, per element, for consensus methods)"},
		ParamSpec{Name: "rescale", Bool: true, Default: gtaBool(m.defaultRescale), Min: 0, Max: 1, Doc: "rescale each sparsified task vector to its original L1 norm"},
		ParamSpec{Name: "lambda", Default: 1, Min: -inf, Max: inf, Doc: "scale of the merged task vector"},
		ParamSpec{Name: "int8_mask", Bool: true, Default: 0, Min: 0, Max: 1, Doc: "accepted for mergekit compatibility (a memory saving there); no effect"},
	)
	return Spec{Name: m.name, NeedsBase: true, MinModels: 1, Params: ps, Doc: m.doc}
}

func (m gtaMethod) Merge(t Tensor) ([]float32, error) { return m.merge(t, nil) }

// merge is Merge that also reports each sparsified model's keep mask (nil
// when the model was not sparsified) to record, when it is not nil.
func (m gtaMethod) merge(t Tensor, record func(model int, keep []bool)) ([]float32, error) {
	s := m.Spec()
	if t.Base == nil {
		return nil, fmt.Errorf("%s: %s needs a base model", t.Name, m.name)
	}
	base := sparsifyF64(t.Base)
	n := len(base)
	if len(t.Data) == 0 {
		return append([]float32(nil), t.Base...), nil
	}
	rescale := t.Value(s, -1, "rescale") != 0
	weights := make([]float64, len(t.Data))
	wd := make([][]float64, len(t.Data))
	for i, x := range t.Data {
		if len(x) != n {
			return nil, fmt.Errorf("%s: model %d has %d values, the base %d", t.Name, i, len(x), n)
		}
		delta := make([]float64, n)
		for e, v := range x {
			delta[e] = float64(v) - base[e]
		}
		if m.sparsify != sparsifyNone {
			if (m.sparsify == sparsifyRandom || m.sparsify == sparsifyDellaPrune) && t.Rand == nil {
				return nil, fmt.Errorf("%s: %s is random and needs a seeded generator", t.Name, m.name)
			}
			o := sparsifyOpts{
				density: t.Value(s, i, "density"),
				gamma:   t.Value(s, i, "gamma"),
				epsilon: t.Value(s, i, "epsilon"),
				rescale: rescale,
				shape:   t.Shape,
				rng:     t.Rand,
			}
			var keep []bool
			var err error
			delta, keep, err = sparsifyDelta(m.sparsify, delta, o)
			if err != nil {
				return nil, fmt.Errorf("%s: model %d: %w", t.Name, i, err)
			}
			if record != nil {
				record(i, keep)
			}
		}
		w := t.Value(s, i, "weight")
		weights[i] = w
		for e := range delta {
			delta[e] *= w
		}
		wd[i] = delta
	}

	normalize := t.Value(s, -1, "normalize") != 0
	lambda := t.Value(s, -1, "lambda")
	out := make([]float32, n)
	if m.consensus != consensusNone {
		mask := sparsifyElect(wd, m.consensus)
		for e := 0; e < n; e++ {
			var mixed, div float64
			for i := range wd {
				if mask[i][e] {
					mixed += wd[i][e]
					div += weights[i]
				}
			}
			if div == 0 {
				div = 1
			}
			if normalize {
				mixed /= div
			}
			out[e] = float32(base[e] + lambda*mixed)
		}
		return out, nil
	}
	var div float64
	for _, w := range weights {
		div += w
	}
	if math.Abs(div) < 1e-8 {
		div = 1
	}
	for e := 0; e < n; e++ {
		var mixed float64
		for i := range wd {
			mixed += wd[i][e]
		}
		if normalize {
			mixed /= div
		}
		out[e] = float32(base[e] + lambda*mixed)
	}
	return out, nil
}

func init() {
	for _, m := range []gtaMethod{
		{name: "task_arithmetic", doc: "Task arithmetic (arXiv:2212.04089): base + lambda * sum of weighted task vectors"},
		{name: "ties", consensus: consensusSum, sparsify: sparsifyMagnitude, defaultNormalize: true, doc: "TIES (arXiv:2306.01708): magnitude-trimmed task vectors, sign elected by the sum, disjoint mean"},
		{name: "dare_ties", consensus: consensusSum, sparsify: sparsifyRandom, defaultRescale: true, doc: "DARE with TIES sign consensus (arXiv:2311.03099): random drop, L1 rescale"},
		{name: "dare_linear", sparsify: sparsifyRandom, defaultRescale: true, doc: "DARE (arXiv:2311.03099): random drop, L1 rescale, weighted sum"},
		{name: "breadcrumbs", sparsify: sparsifyOutliers, doc: "Model Breadcrumbs (arXiv:2312.06795): drop the gamma largest and the smallest entries"},
		{name: "breadcrumbs_ties", consensus: consensusSum, sparsify: sparsifyOutliers, doc: "Model Breadcrumbs with TIES sign consensus"},
		{name: "della", consensus: consensusSum, sparsify: sparsifyDellaPrune, defaultNormalize: true, defaultRescale: true, doc: "DELLA (arXiv:2406.11617): magnitude-ranked random drop, L1 rescale, TIES sign consensus"},
		{name: "della_linear", sparsify: sparsifyDellaPrune, defaultRescale: true, doc: "DELLA without sign consensus"},
	} {
		Register(m)
	}
}
