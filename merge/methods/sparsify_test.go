package methods

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os/exec"
	"testing"

	"github.com/frankenvit/frankenvit/internal/testenv"
)

// refCase is one merge for testdata/reference.py.
type refCase struct {
	Method string      `json:"method"`
	Shape  []int       `json:"shape"`
	Base   []float64   `json:"base"` // float32 values widened, so that JSON carries them exactly
	Data   [][]float64 `json:"data"`
	Per    []Params    `json:"per"`
	Global Params      `json:"global"`
	Masks  [][]bool    `json:"masks,omitempty"`
}

func numpyAvailable() error {
	out, err := exec.Command("/usr/bin/python3", "-c", "import numpy").CombinedOutput()
	if err != nil {
		return errors.New("/usr/bin/python3 cannot import numpy: " + string(out) + err.Error())
	}
	return nil
}

func runReference(t *testing.T, cases []refCase) [][]float64 {
	t.Helper()
	in, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("/usr/bin/python3", "testdata/reference.py")
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reference.py: %v\n%s", err, stderr.String())
	}
	var res struct{ Outputs [][]float64 }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Outputs) != len(cases) {
		t.Fatalf("reference.py returned %d outputs for %d cases", len(res.Outputs), len(cases))
	}
	return res.Outputs
}

// randomModels: a base ~ N(0,1) and k models base + 0.1*N(0,1), as float32.
func randomModels(seed uint64, k int, shape []int) ([]float32, [][]float32) {
	r := rand.New(rand.NewPCG(seed, 7))
	n := 1
	for _, d := range shape {
		n *= d
	}
	base := make([]float32, n)
	for i := range base {
		base[i] = float32(r.NormFloat64())
	}
	data := make([][]float32, k)
	for m := range data {
		data[m] = make([]float32, n)
		for i := range base {
			data[m][i] = base[i] + float32(0.1*r.NormFloat64())
		}
	}
	return base, data
}

func TestMethodsAgainstNumpy(t *testing.T) {
	testenv.Need(t, testenv.Torch, numpyAvailable())
	type setup struct {
		method string
		shape  []int
		per    []Params
		global Params
	}
	w3 := []Params{{"weight": 1, "density": 0.5}, {"weight": 0.6, "density": 0.7}, {"weight": 0.8, "density": 0.3}}
	setups := []setup{
		{"linear", []int{6, 10}, []Params{{"weight": 1}, {"weight": 0.5}, {"weight": 2}}, Params{}},
		{"linear", []int{6, 10}, []Params{{"weight": 1}, {"weight": -0.5}, {"weight": 2}}, Params{"normalize": 0}},
		{"task_arithmetic", []int{6, 10}, []Params{{"weight": 1}, {"weight": 0.5}, {"weight": 0.3}}, Params{"lambda": 0.7}},
		{"task_arithmetic", []int{6, 10}, []Params{{"weight": 1}, {"weight": 0.5}, {"weight": 0.3}}, Params{"normalize": 1}},
		{"task_arithmetic", []int{6, 10}, []Params{{"weight": -1}, {"weight": -0.5}, {"weight": 0.3}}, Params{"normalize": 1}},
		{"ties", []int{6, 10}, w3, Params{}},
		{"ties", []int{60}, w3, Params{"normalize": 0, "lambda": 1.3}},
		{"ties", []int{6, 10}, w3, Params{"rescale": 1}},
		{"ties", []int{6, 10}, []Params{{"weight": 1}, {"weight": -0.4}, {"weight": 0.8}}, Params{"density": 0.4}},
		{"breadcrumbs", []int{10, 10}, []Params{{"weight": 1, "density": 0.5, "gamma": 0.1}, {"weight": 0.5, "density": 0.8, "gamma": 0.05}, {"weight": 0.7, "density": 0.9, "gamma": 0.2}}, Params{}},
		{"breadcrumbs", []int{6, 10}, []Params{{"weight": 1, "density": 0.5}, {"weight": 0.5, "density": 0.8}, {"weight": 0.7, "density": 0.9}}, Params{"normalize": 1}},
		{"breadcrumbs_ties", []int{10, 10}, []Params{{"weight": 1, "density": 0.5, "gamma": 0.1}, {"weight": 0.5, "density": 0.8, "gamma": 0.05}, {"weight": 0.7, "density": 0.9, "gamma": 0.2}}, Params{"normalize": 1}},
		{"dare_linear", []int{6, 10}, w3, Params{}},
		{"dare_linear", []int{6, 10}, w3, Params{"rescale": 0, "lambda": 0.5}},
		{"dare_ties", []int{6, 10}, w3, Params{}},
		{"dare_ties", []int{6, 10}, w3, Params{"normalize": 1}},
		{"della", []int{4, 3, 2, 5}, []Params{{"weight": 1, "density": 0.5, "epsilon": 0.1}, {"weight": 0.6, "density": 0.7}, {"weight": 0.8, "density": 0.3, "epsilon": 0.2}}, Params{}},
		{"della_linear", []int{6, 10}, w3, Params{"epsilon": 0.1}},
		{"della_linear", []int{60}, w3, Params{"epsilon": 0.1, "rescale": 0}},
		{"sce", []int{6, 10}, nil, Params{}},
		{"sce", []int{6, 10}, nil, Params{"select_topk": 0.3}},
	}
	var cases []refCase
	var got [][]float32
	for si, s := range setups {
		m, ok := Lookup(s.method)
		if !ok {
			t.Fatalf("%s not registered", s.method)
		}
		base, data := randomModels(uint64(100+si), 3, s.shape)
		c := refCase{Method: s.method, Shape: s.shape, Base: sparsifyF64(base), Per: s.per, Global: s.global}
		for _, d := range data {
			c.Data = append(c.Data, sparsifyF64(d))
		}
		tn := Tensor{Name: s.method, Shape: s.shape, Base: base, Data: data, Per: s.per, Global: s.global, Rand: rand.New(rand.NewPCG(uint64(si), 1))}
		if s.method == "linear" {
			c.Base, tn.Base = nil, nil
		}
		var out []float32
		var err error
		if g, ok := m.(gtaMethod); ok {
			c.Masks = make([][]bool, len(data))
			out, err = g.merge(tn, func(i int, keep []bool) { c.Masks[i] = keep })
		} else {
			out, err = m.Merge(tn)
		}
		if err != nil {
			t.Fatalf("%d %s: %v", si, s.method, err)
		}
		cases = append(cases, c)
		got = append(got, out)
	}
	// DELLA's keep probabilities, compared on their own (the merges above
	// take the masks the Go code drew).
	probShapes := [][]int{{6, 10}, {4, 3, 2, 5}, {37}}
	var probs [][]float64
	for pi, sh := range probShapes {
		base, _ := randomModels(uint64(500+pi), 0, sh)
		cases = append(cases, refCase{Method: "della_probs", Shape: sh, Base: sparsifyF64(base), Global: Params{"density": 0.4, "epsilon": 0.15}})
		probs = append(probs, sparsifyDellaProbs(sparsifyF64(base), sh, 0.4, 0.15))
	}
	want := runReference(t, cases)
	worst := map[string]float64{}
	for i := range setups {
		name := setups[i].method
		for e, w := range want[i] {
			rel := math.Abs(float64(got[i][e])-w) / math.Max(math.Abs(w), 1)
			worst[name] = math.Max(worst[name], rel)
			if rel > 1e-6 || math.IsNaN(float64(got[i][e])) {
				t.Fatalf("case %d %s element %d: go %v numpy %v (rel %g)", i, name, e, got[i][e], w, rel)
			}
		}
	}
	for pi := range probs {
		for e, w := range want[len(setups)+pi] {
			d := math.Abs(probs[pi][e] - w)
			worst["della_probs"] = math.Max(worst["della_probs"], d)
			if d > 1e-12 {
				t.Fatalf("della probs shape %v element %d: go %v numpy %v", probShapes[pi], e, probs[pi][e], w)
			}
		}
	}
	t.Logf("max error against numpy (relative to max(|ref|,1)): %v", worst)
}

// TestTiesSignElectionByHand: three models, four elements, base 10.
//
//	deltas  m1 = [ 1, -2,  3,    0  ]
//	        m2 = [ 2,  1, -1.5,  0.5]
//	        m3 = [-4,  1, -0.8, -0.5]
//
// density 1, weights 1, "sum" election (sign of the column sum, >= 0 is +):
//
//	e0: 1+2-4 = -1     -> '-': only m3 agrees: -4/1 = -4
//	e1: -2+1+1 = 0     -> '+': m2, m3: (1+1)/2 = 1 (unnormalised 2)
//	e2: 3-1.5-0.8=0.7  -> '+': m1: 3/1 = 3
//	e3: 0+0.5-0.5 = 0  -> '+': m1's 0 has sign 0 and never agrees; m2: 0.5/1 = 0.5
//
// so ties = 10 + [-4, 1, 3, 0.5]; normalize 0: 10 + [-4, 2, 3, 0.5].
// Weights [1, 1, 0.25]: e0: 1+2-1 = 2 -> '+': (1+2)/(1+1) = 1.5; e1: -2+1+0.25
// = -0.75 -> '-': m1: -2/1 = -2; e2: 3-1.5-0.2 = 1.3 -> '+': 3; e3: 0+0.5-0.125
// -> '+': 0.5. So 10 + [1.5, -2, 3, 0.5].
// Density 0.5 (k = int(0.5*4) = 2 per model, by |delta|): m1 keeps e2, e1 ->
// [0,-2,3,0]; m2 keeps e0, e2 -> [2,0,-1.5,0]; m3 keeps e0, e1 -> [-4,1,0,0].
// e0: 2-4 = -2 -> '-': -4; e1: -2+1 = -1 -> '-': m1: -2; e2: 3-1.5 = 1.5 ->
// '+': 3; e3: all 0 -> nobody agrees, divisor 0 -> 1: 0. So 10 + [-4, -2, 3, 0].
// The "count" election (sign of the number of + minus -): e0: +,+,- -> '+':
// (1+2)/2 = 1.5; e1: -,+,+ -> '+': 1; e2: +,-,- -> '-': (-1.5-0.8)/2 = -1.15;
// e3: 0,+,- -> 0 -> '+': 0.5.
func TestTiesSignElectionByHand(t *testing.T) {
	d := [][]float64{{1, -2, 3, 0}, {2, 1, -1.5, 0.5}, {-4, 1, -0.8, -0.5}}
	base := []float32{10, 10, 10, 10}
	data := make([][]float32, 3)
	for i := range d {
		data[i] = make([]float32, 4)
		for e := range d[i] {
			data[i][e] = 10 + float32(d[i][e])
		}
	}
	ties, _ := Lookup("ties")
	check := func(label string, per []Params, global Params, want []float64) {
		t.Helper()
		out, err := ties.Merge(Tensor{Name: label, Shape: []int{4}, Base: base, Data: data, Per: per, Global: global})
		if err != nil {
			t.Fatal(err)
		}
		for e := range want {
			if math.Abs(float64(out[e])-(10+want[e])) > 1e-6 {
				t.Errorf("%s: element %d = %v, want %v (all %v)", label, e, out[e], 10+want[e], out)
			}
		}
	}
	ones := []Params{{"weight": 1}, {"weight": 1}, {"weight": 1}}
	check("density 1", ones, Params{}, []float64{-4, 1, 3, 0.5})
	check("no normalize", ones, Params{"normalize": 0}, []float64{-4, 2, 3, 0.5})
	check("lambda 0.5", ones, Params{"lambda": 0.5}, []float64{-2, 0.5, 1.5, 0.25})
	check("weights", []Params{{"weight": 1}, {"weight": 1}, {"weight": 0.25}}, Params{}, []float64{1.5, -2, 3, 0.5})
	check("density 0.5", ones, Params{"density": 0.5}, []float64{-4, -2, 3, 0})

	mask := sparsifyElect(d, consensusCount)
	want := []float64{1.5, 1, -1.15, 0.5}
	for e := range want {
		var mixed, div float64
		for i := range d {
			if mask[i][e] {
				mixed += d[i][e]
				div++
			}
		}
		if math.Abs(mixed/div-want[e]) > 1e-12 {
			t.Errorf("count election element %d: %v, want %v", e, mixed/div, want[e])
		}
	}
}

func randomTensor(method string, seed uint64, shape []int, per []Params, global Params) Tensor {
	base, data := randomModels(42, len(per), shape)
	return Tensor{Name: method, Shape: shape, Base: base, Data: data, Per: per, Global: global, Rand: rand.New(rand.NewPCG(seed, 3))}
}

func TestRandomMethodsSeeded(t *testing.T) {
	per := []Params{{"weight": 1, "density": 0.5}, {"weight": 0.5, "density": 0.3}}
	for _, name := range []string{"dare_linear", "dare_ties", "della", "della_linear"} {
		m, _ := Lookup(name)
		a, err := m.Merge(randomTensor(name, 1, []int{8, 16}, per, Params{}))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := m.Merge(randomTensor(name, 1, []int{8, 16}, per, Params{}))
		c, _ := m.Merge(randomTensor(name, 2, []int{8, 16}, per, Params{}))
		same, diff := true, 0
		for i := range a {
			if a[i] != b[i] {
				same = false
			}
			if a[i] != c[i] {
				diff++
			}
		}
		if !same {
			t.Errorf("%s: the same seed gave different outputs", name)
		}
		if diff == 0 {
			t.Errorf("%s: seeds 1 and 2 gave the same output", name)
		}
		if _, err := m.Merge(Tensor{Name: "x", Shape: []int{2}, Base: []float32{0, 0}, Data: [][]float32{{1, 1}}, Per: per[:1]}); err == nil {
			t.Errorf("%s: no error without a generator", name)
		}
	}
}

// TestRandomDensityOne: at density 1 nothing is dropped nor drawn, so DARE and
// DELLA equal their deterministic counterparts exactly.
func TestRandomDensityOne(t *testing.T) {
	per := []Params{{"weight": 1}, {"weight": 0.5}, {"weight": 0.3}}
	pairs := [][2]string{{"dare_linear", "task_arithmetic"}, {"dare_ties", "ties"}, {"della_linear", "task_arithmetic"}, {"della", "ties"}}
	for _, p := range pairs {
		for _, norm := range []float64{0, 1} {
			g := Params{"normalize": norm, "lambda": 0.8}
			r, _ := Lookup(p[0])
			d, _ := Lookup(p[1])
			a, err := r.Merge(randomTensor(p[0], 5, []int{6, 10}, per, g))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := d.Merge(randomTensor(p[1], 5, []int{6, 10}, per, g))
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("%s vs %s (normalize %v) element %d: %v != %v", p[0], p[1], norm, i, a[i], b[i])
				}
			}
		}
	}
}

// TestRandomSparsifyStatistics: DARE keeps a share density of the entries,
// DELLA too on average with more of the large ones, and the L1 rescale keeps
// the task vector's L1 norm (mergekit's rescale; see sparsify_util.go).
func TestRandomSparsifyStatistics(t *testing.T) {
	const rows, cols = 200, 500
	r := rand.New(rand.NewPCG(9, 9))
	delta := make([]float64, rows*cols)
	var l1 float64
	for i := range delta {
		delta[i] = r.NormFloat64()
		l1 += math.Abs(delta[i])
	}
	for _, kind := range []sparsifyKind{sparsifyRandom, sparsifyDellaPrune} {
		const density, eps = 0.3, 0.2
		out, keep, err := sparsifyDelta(kind, delta, sparsifyOpts{density: density, epsilon: eps, rescale: true, shape: []int{rows, cols}, rng: rand.New(rand.NewPCG(1, 2))})
		if err != nil {
			t.Fatal(err)
		}
		kept, keptTop, keptBot := 0, 0, 0
		var outL1 float64
		probs := sparsifyDellaProbs(delta, []int{rows, cols}, density, eps)
		for i, k := range keep {
			outL1 += math.Abs(out[i])
			if k {
				kept++
				if probs[i] > density {
					keptTop++
				} else {
					keptBot++
				}
			} else if out[i] != 0 {
				t.Fatalf("kind %d: dropped entry %d is %v", kind, i, out[i])
			}
		}
		share := float64(kept) / float64(len(delta))
		if math.Abs(share-density) > 0.01 {
			t.Errorf("kind %d: kept %.4f, want about %v", kind, share, density)
		}
		if math.Abs(outL1-l1) > 1e-9*l1 {
			t.Errorf("kind %d: L1 %v after rescale, %v before", kind, outL1, l1)
		}
		// Top half of each row has mean keep probability density + eps/2 for
		// DELLA, density for DARE.
		top, bot := float64(keptTop)/float64(len(delta)/2), float64(keptBot)/float64(len(delta)/2)
		wantTop, wantBot := density, density
		if kind == sparsifyDellaPrune {
			wantTop, wantBot = density+eps/2, density-eps/2
		}
		if math.Abs(top-wantTop) > 0.015 || math.Abs(bot-wantBot) > 0.015 {
			t.Errorf("kind %d: kept %.4f of the larger half and %.4f of the smaller, want %v and %v", kind, top, bot, wantTop, wantBot)
		}
		t.Logf("kind %d: kept %.4f (larger half %.4f, smaller %.4f), L1 %.6g -> %.6g", kind, share, top, bot, l1, outL1)
	}
	// Without rescale the kept entries are unchanged.
	out, keep, _ := sparsifyDelta(sparsifyRandom, delta, sparsifyOpts{density: 0.5, rng: rand.New(rand.NewPCG(1, 2))})
	for i := range out {
		if keep[i] && out[i] != delta[i] {
			t.Fatalf("entry %d changed without rescale", i)
		}
	}
}

func TestSparsifyEdges(t *testing.T) {
	// DELLA: a row of one element (mergekit: 0/0) gets probability density.
	p := sparsifyDellaProbs([]float64{3, -1, 2}, []int{1, 1, 3}, 0.4, 0.1)
	for _, v := range p {
		if v != 0.4 {
			t.Errorf("single-element rows: %v, want 0.4", p)
		}
	}
	// DELLA: density +/- epsilon outside (0, 1) is refused, as in mergekit.
	if _, _, err := sparsifyDelta(sparsifyDellaPrune, []float64{1, 2}, sparsifyOpts{density: 0.9, epsilon: 0.15, rng: rand.New(rand.NewPCG(1, 1))}); err == nil {
		t.Error("della accepted density 0.9 with epsilon 0.15")
	}
	// TIES: a density that keeps nothing is refused (mergekit asserts k > 0).
	if _, _, err := sparsifyDelta(sparsifyMagnitude, []float64{1, 2, 3}, sparsifyOpts{density: 0.2}); err == nil {
		t.Error("magnitude accepted k = 0")
	}
	// Breadcrumbs: 10 entries, density 0.5, gamma 0.2: drop the 2 largest and
	// the 3 smallest.
	x := []float64{1, -2, 3, -4, 5, -6, 7, -8, 9, -10}
	out, _, _ := sparsifyDelta(sparsifyOutliers, x, sparsifyOpts{density: 0.5, gamma: 0.2})
	want := []float64{0, 0, 0, -4, 5, -6, 7, -8, 0, 0}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("breadcrumbs: %v, want %v", out, want)
		}
	}
	// gamma 0.6 > 1 - density: only the 5 largest are dropped.
	out, _, _ = sparsifyDelta(sparsifyOutliers, x, sparsifyOpts{density: 0.5, gamma: 0.6})
	want = []float64{1, -2, 3, -4, 5, 0, 0, 0, 0, 0}
	for i := range want {
		if out[i] != want[i] {
			t.Fatalf("breadcrumbs, large gamma: %v, want %v", out, want)
		}
	}
}

func TestSpecs(t *testing.T) {
	defaults := map[string][2]float64{ // normalize, rescale
		"task_arithmetic": {0, 0}, "ties": {1, 0}, "dare_ties": {0, 1}, "dare_linear": {0, 1},
		"breadcrumbs": {0, 0}, "breadcrumbs_ties": {0, 0}, "della": {1, 1}, "della_linear": {0, 1},
	}
	for name, d := range defaults {
		m, ok := Lookup(name)
		if !ok {
			t.Fatalf("%s not registered", name)
		}
		s := m.Spec()
		n, _ := s.Param("normalize")
		r, _ := s.Param("rescale")
		w, _ := s.Param("weight")
		if n.Default != d[0] || r.Default != d[1] || !w.Required || !w.PerModel || !s.NeedsBase {
			t.Errorf("%s: spec %+v", name, s)
		}
	}
	if m, _ := Lookup("linear"); m.Spec().NeedsBase {
		t.Error("linear needs no base")
	}
}
