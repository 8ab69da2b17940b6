package methods

// linear: mergekit's LinearMerge (mergekit/merge_methods/linear.py), our own
// code: sum_i weight_i * x_i, divided by sum_i weight_i when normalize (the
// default). No base model: a base listed among the models is merged like any
// other model.

import (
	"fmt"
	"math"
)

type linearMethod struct{}

func (linearMethod) Spec() Spec {
	inf := math.Inf(1)
	return Spec{
		Name:      "linear",
		MinModels: 1,
		Params: []ParamSpec{
			{Name: "weight", PerModel: true, Required: true, Min: -inf, Max: inf, Doc: "the model's weight"},
			{Name: "normalize", Bool: true, Default: 1, Min: 0, Max: 1, Doc: "divide by the sum of the weights"},
		},
		Doc: "Linear (model soup, arXiv:2203.05482): the weighted average of the models",
	}
}

func (m linearMethod) Merge(t Tensor) ([]float32, error) {
	s := m.Spec()
	if len(t.Data) == 0 {
		return nil, fmt.Errorf("%s: linear needs at least one model", t.Name)
	}
	n := len(t.Data[0])
	acc := make([]float64, n)
	var wsum float64
	for i, x := range t.Data {
		if len(x) != n {
			return nil, fmt.Errorf("%s: model %d has %d values, model 0 %d", t.Name, i, len(x), n)
		}
		w := t.Value(s, i, "weight")
		wsum += w
		for e, v := range x {
			acc[e] += w * float64(v)
		}
	}
	if t.Value(s, -1, "normalize") != 0 {
		if wsum == 0 {
			// mergekit divides anyway and writes inf/NaN; we refuse.
			return nil, fmt.Errorf("%s: linear with normalize: the weights sum to 0", t.Name)
		}
		for e := range acc {
			acc[e] /= wsum
		}
	}
	out := make([]float32, n)
	for e, v := range acc {
		out[e] = float32(v)
	}
	return out, nil
}

func init() { Register(linearMethod{}) }
