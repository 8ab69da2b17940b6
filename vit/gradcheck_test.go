package vit

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
)

// dotOp is a test-only scalar loss sum(x * g) that turns any operator's
// output into a scalar with a dense, random upstream gradient g.
type dotOp struct {
	x mat.Tensor
	g []float32
}

func (o *dotOp) Operands() []mat.Tensor { return []mat.Tensor{o.x} }
func (o *dotOp) Forward() (mat.Tensor, error) {
	var s float64
	for i, v := range f32(o.x) {
		s += float64(v) * float64(o.g[i])
	}
	return mat.Scalar(float32(s)), nil
}
func (o *dotOp) Backward(gy mat.Tensor) error {
	d := make([]float32, len(o.g))
	for i := range d {
		d[i] = o.g[i] * f32(gy)[0]
	}
	rows, cols := o.x.Shape()[0], o.x.Shape()[1]
	o.x.AccGrad(wrap(d, rows, cols))
	return nil
}

// variable is one tensor whose gradient the check compares.
type variable struct {
	name string
	data []float32
	grad func() []float32
}

func paramVars(params []*Param) []variable {
	var vs []variable
	for _, p := range params {
		p := p
		vs = append(vs, variable{name: p.Name, data: p.Data(), grad: func() []float32 { return p.Grad }})
	}
	return vs
}

func inputVar(name string, x *mat.Dense[float32]) variable {
	return variable{name: name, data: x.Data().F32(), grad: func() []float32 {
		if x.Grad() == nil {
			return make([]float32, x.Size())
		}
		return x.Grad().Data().F32()
	}}
}

// gradCheck compares the analytic gradient of loss() (one backward pass)
// with central finite differences at a few entries of every variable. The
// loss is rebuilt for every evaluation; params' Grad must start at zero.
func gradCheck(t *testing.T, loss func() mat.Tensor, vars []variable, probes int) {
	t.Helper()
	l := loss()
	if err := ag.Backward(l); err != nil {
		t.Fatal(err)
	}
	analytic := make([][]float32, len(vars))
	for i, v := range vars {
		analytic[i] = append([]float32(nil), v.grad()...)
	}
	rng := rand.New(rand.NewPCG(5, 5))
	const h = 1e-2
	worst := 0.0
	for i, v := range vars {
		for k := 0; k < probes; k++ {
			j := rng.IntN(len(v.data))
			orig := v.data[j]
			v.data[j] = orig + h
			up := float64(f32(loss())[0])
			v.data[j] = orig - h
			down := float64(f32(loss())[0])
			v.data[j] = orig
			num := (up - down) / (2 * h)
			got := float64(analytic[i][j])
			err := math.Abs(num - got)
			tol := 2e-3 + 2e-2*math.Max(math.Abs(num), math.Abs(got))
			worst = math.Max(worst, err/tol)
			if err > tol {
				t.Errorf("%s[%d]: analytic %.6g, finite difference %.6g", v.name, j, got, num)
			}
		}
	}
	t.Logf("worst error/tolerance %.3f", worst)
}

func zeroGrads(params []*Param) {
	for _, p := range params {
		p.ZeroGrad()
	}
}

func randomUpstream(n int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 3))
	g := make([]float32, n)
	for i := range g {
		g[i] = float32(rng.NormFloat64())
	}
	return g
}

func inputTokens(c Config, B int, seed uint64) *mat.Dense[float32] {
	x := randomImages(Config{ImageHeight: 1, ImageWidth: c.Tokens() * c.Dim, Channels: 1}, B, seed)
	return mat.NewDense[float32](mat.WithShape(B*c.Tokens(), c.Dim), mat.WithBacking(x), mat.WithGrad(true))
}

// TestFusedOpGradients checks every fused operator on its own against finite differences.
func TestFusedOpGradients(t *testing.T) {
	const B = 3
	type opCase struct {
		variant Variant
		build   func(m *Model, h mat.Tensor) mat.Tensor
		params  func(m *Model) []*Param
	}
	T := tinyConfig(Baseline).Tokens()
	cases := map[string]opCase{
		"attention": {Baseline, func(m *Model, h mat.Tensor) mat.Tensor {
			return run(nil, &attnOp{eps: LayerNormEps, h: h, bl: m.Blocks[0], B: B, T: T})
		},
			func(m *Model) []*Param { return m.Blocks[0].params }},
		"mlp": {Baseline, func(m *Model, h mat.Tensor) mat.Tensor {
			return run(nil, &mlpOp{eps: LayerNormEps, h: h, bl: m.Blocks[0], rows: B * T})
		},
			func(m *Model) []*Param { return m.Blocks[0].params }},
		"slot projection": {ShufflePosition, func(m *Model, h mat.Tensor) mat.Tensor {
			return run(nil, &posProjOp{eps: LayerNormEps, h: h, bl: m.Blocks[1], stem: m.Stem, slot: 2, rows: B * T})
		}, func(m *Model) []*Param { return append([]*Param{m.Stem.LayerPos}, m.Blocks[1].params...) }},
		"slot head loss": {ShufflePredict, func(m *Model, h mat.Tensor) mat.Tensor {
			return run(nil, &posHeadLossOp{eps: LayerNormEps, h: h, bl: m.Blocks[2], B: B, T: T, ce: crossEntropy{targets: []int32{1, 0, 2}, scale: 0.7}})
		}, func(m *Model) []*Param { return m.Blocks[2].params }},
		"class head loss": {Baseline, func(m *Model, h mat.Tensor) mat.Tensor {
			return run(nil, &headLossOp{h: h, head: m.Head, cfg: m.Config, B: B, ce: crossEntropy{targets: []int32{4, 0, 2}, scale: 1.0 / B}})
		}, func(m *Model) []*Param { return m.Head.params }},
		"gather and scatter": {Baseline, func(m *Model, h mat.Tensor) mat.Tensor {
			c := m.Config
			a := run(nil, &gatherOp{h: h, samples: []int{2, 0}, B: B, T: T, D: c.Dim})
			b := run(nil, &gatherOp{h: h, samples: []int{1}, B: B, T: T, D: c.Dim})
			a = run(nil, &mlpOp{eps: LayerNormEps, h: a, bl: m.Blocks[0], rows: 2 * T})
			return run(nil, &scatterOp{parts: []mat.Tensor{a, b}, groups: [][]int{{2, 0}, {1}}, B: B, T: T, D: c.Dim})
		}, func(m *Model) []*Param { return m.Blocks[0].params }},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m := randomModel(t, "m", tinyConfig(tc.variant), 11)
			h := inputTokens(m.Config, B, 12)
			var g []float32
			loss := func() mat.Tensor {
				out := tc.build(m, h)
				if out.Size() == 1 {
					return out
				}
				if g == nil {
					g = randomUpstream(out.Size(), 13)
				}
				return ag.NewOperator(&dotOp{x: out, g: g}).Run()
			}
			zeroGrads(m.Params())
			gradCheck(t, loss, append([]variable{inputVar("h", h)}, paramVars(tc.params(m))...), 4)
		})
	}
	t.Run("patch embedding", func(t *testing.T) {
		m := randomModel(t, "m", tinyConfig(Baseline), 11)
		x := randomImages(m.Config, B, 14)
		var g []float32
		loss := func() mat.Tensor {
			out := run(nil, &patchEmbedOp{stem: m.Stem, cfg: m.Config, x: x, B: B})
			if g == nil {
				g = randomUpstream(out.Size(), 15)
			}
			return ag.NewOperator(&dotOp{x: out, g: g}).Run()
		}
		zeroGrads(m.Params())
		gradCheck(t, loss, paramVars(m.Stem.params), 6)
	})
}

// TestModelGradients checks the whole training graph of every variant, with
// per-batch, per-sample and repeating plans.
func TestModelGradients(t *testing.T) {
	const B = 4
	for _, v := range Variants {
		for _, mode := range []string{"batch", "per-sample", "repeat"} {
			if mode == "per-sample" && !v.Shuffled() {
				continue
			}
			t.Run(fmt.Sprintf("%s/%s", v, mode), func(t *testing.T) {
				c := tinyConfig(v)
				m := randomModel(t, "m", c, 21)
				x, labels := randomImages(c, B, 22), randomLabels(c, B, 23)
				plans := []Plan{mustPlan(t, m, 2, 0, 1)}
				switch mode {
				case "per-sample":
					plans = []Plan{mustPlan(t, m, 2, 0, 1), mustPlan(t, m, 0, 1, 2), mustPlan(t, m, 2, 1, 0), mustPlan(t, m, 1, 0, 2)}
				case "repeat":
					plans = []Plan{mustPlan(t, m, 1, 1, 0)}
				}
				checkTrainingGradient(t, m, x, labels, B, plans)
			})
		}
	}
}

// checkTrainingGradient checks the gradient of the whole training loss
// (slot loss weight 0.8) for every parameter against finite differences.
func checkTrainingGradient(t *testing.T, m *Model, x []float32, labels []int32, B int, plans []Plan) {
	t.Helper()
	loss := func() mat.Tensor {
		st, err := m.Forward(x, labels, B, plans, 0.8)
		if err != nil {
			t.Fatal(err)
		}
		return st.loss
	}
	zeroGrads(m.Params())
	gradCheck(t, loss, paramVars(m.Params()), 2)
}
