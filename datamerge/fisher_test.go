package datamerge

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

func constFisher(m *vit.Model, f func(k, j int) float64) FisherDiag {
	d := newFisherDiag(m.Params())
	for k := range d {
		for j := range d[k] {
			d[k][j] = f(k, j)
		}
	}
	return d
}

func TestMergeFisherWeighting(t *testing.T) {
	a, b := statModel(t, "a", vit.Baseline, 1), statModel(t, "b", vit.Baseline, 2)
	rng := rand.New(rand.NewPCG(1, 1))
	shared := constFisher(a, func(int, int) float64 { return rng.ExpFloat64() })
	check := func(what string, got *vit.Model, want func(x, y float64) float64) {
		t.Helper()
		pa, pb, pg := a.Params(), b.Params(), got.Params()
		for k := range pg {
			for j, v := range pg[k].Data() {
				w := want(float64(pa[k].Data()[j]), float64(pb[k].Data()[j]))
				if math.Abs(float64(v)-w) > 1e-6*(1+math.Abs(w)) {
					t.Fatalf("%s: %s[%d] = %g, want %g", what, pg[k].Name, j, v, w)
				}
			}
		}
	}
	// equal Fishers (element-wise different, equal across models): the plain average
	got, err := MergeFisher("out", []*vit.Model{a, b}, []FisherDiag{shared, shared}, nil, DefaultEpsilon)
	if err != nil {
		t.Fatal(err)
	}
	check("equal Fishers", got, func(x, y float64) float64 { return (x + y) / 2 })
	// equal Fishers and model weights: the weighted average
	got, err = MergeFisher("out", []*vit.Model{a, b}, []FisherDiag{shared, shared}, []float64{1, 3}, DefaultEpsilon)
	if err != nil {
		t.Fatal(err)
	}
	check("weights 1,3", got, func(x, y float64) float64 { return (x + 3*y) / 4 })
	// Fisher 1 against 3: b counts three times as much
	got, err = MergeFisher("out", []*vit.Model{a, b}, []FisherDiag{constFisher(a, func(int, int) float64 { return 1 }),
		constFisher(b, func(int, int) float64 { return 3 })}, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	check("Fishers 1,3", got, func(x, y float64) float64 { return (x + 3*y) / 4 })
	// zero Fishers fall back to the average through epsilon
	zero := constFisher(a, func(int, int) float64 { return 0 })
	got, err = MergeFisher("out", []*vit.Model{a, b}, []FisherDiag{zero, zero}, nil, DefaultEpsilon)
	if err != nil {
		t.Fatal(err)
	}
	check("zero Fishers", got, func(x, y float64) float64 { return (x + y) / 2 })
	if _, err := MergeFisher("out", []*vit.Model{a, b}, []FisherDiag{zero, zero}, nil, 0); err == nil {
		t.Fatal("zero Fishers without epsilon must be an error")
	}
}

func TestFisherOfAModelWithItselfIsItself(t *testing.T) {
	m := statModel(t, "a", vit.ShufflePredict, 1)
	got, err := Fisher("out", []Source{statSource(m, 6, 1), statSource(m, 6, 2)}, FisherOptions{Images: 6})
	if err != nil {
		t.Fatal(err)
	}
	if d, where := maxRelDiff(t, got, m); d > 1e-6 {
		t.Fatalf("Fisher of a model with itself differs from it by %g at %s", d, where)
	}
	for _, p := range m.Params() {
		for _, g := range p.Grad {
			if g != 0 {
				t.Fatalf("Fisher left a gradient in the source's %s", p.Name)
			}
		}
	}
}

// TestEmpiricalFisherIsMeanOfPerSampleSquares recomputes the Fisher from the
// model's own forward/backward, one image at a time, and checks that it is
// not the square of the batch gradient.
func TestEmpiricalFisherIsMeanOfPerSampleSquares(t *testing.T) {
	const n = 3
	m := statModel(t, "a", vit.Baseline, 5)
	s := statSource(m, n, 5)
	got, err := EmpiricalFisher(s, n)
	if err != nil {
		t.Fatal(err)
	}
	ps := m.Params()
	want := newFisherDiag(ps)
	for i := 0; i < n; i++ {
		x, lab, _ := statImages(s, i, i+1, true)
		st, err := m.Forward(x, lab, 1, []vit.Plan{m.Sequential()}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Backward(); err != nil {
			t.Fatal(err)
		}
		for k, p := range ps {
			for j, g := range p.Grad {
				want[k][j] += float64(g) * float64(g) / n
			}
			p.ZeroGrad()
		}
	}
	x, lab, _ := statImages(s, 0, n, true)
	st, err := m.Forward(x, lab, n, []vit.Plan{m.Sequential()}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Backward(); err != nil {
		t.Fatal(err)
	}
	batchSquare := 0.0
	for k, p := range ps {
		for j, v := range want[k] {
			if math.Abs(got[k][j]-v) > 1e-5*(v+1e-9) {
				t.Fatalf("Fisher of %s[%d]: %g, per-sample recomputation %g", p.Name, j, got[k][j], v)
			}
			batchSquare = max(batchSquare, math.Abs(got[k][j]-float64(p.Grad[j])*float64(p.Grad[j])))
		}
		p.ZeroGrad()
	}
	if batchSquare < 1e-6 {
		t.Fatal("the Fisher equals the squared batch gradient: the test cannot tell them apart")
	}
}

func TestFisherBadInput(t *testing.T) {
	a := statSource(statModel(t, "a", vit.Baseline, 1), 8, 1)
	unlabelled := statSource(statModel(t, "u", vit.Baseline, 2), 8, 2)
	unlabelled.Data.Labels = nil
	cfg := a.Model.Config
	cfg.Dim, cfg.MLP = 32, 48
	wide, err := vit.NewModel("wide", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name    string
		sources []Source
		opt     FisherOptions
		want    string
	}{
		{"no sources", nil, FisherOptions{}, "no sources"},
		{"widths", []Source{a, statSource(wide, 8, 2)}, FisherOptions{Images: 8}, "wide"},
		{"nil data", []Source{a, {Model: statModel(t, "b", vit.Baseline, 2)}}, FisherOptions{Images: 8}, "model b has no data"},
		{"too many images", []Source{a}, FisherOptions{Images: 9}, "8 images, 9 asked"},
		{"no labels", []Source{a, unlabelled}, FisherOptions{Images: 8}, "no labels"},
		{"weights", []Source{a}, FisherOptions{Images: 8, Weights: []float64{1, 2}}, "2 weights for 1 sources"},
	} {
		_, err := Fisher("out", tc.sources, tc.opt)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: got error %v, want one line containing %q", tc.name, err, tc.want)
		}
	}
}
