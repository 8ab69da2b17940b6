package methods

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/testenv"
)

// geoCase is one merge of the reference comparison.
type geoCase struct {
	Name   string      `json:"name"`
	Method string      `json:"method"`
	Shape  []int       `json:"shape"`
	Base   []float64   `json:"base"`
	Data   [][]float64 `json:"data"`
	Per    []Params    `json:"per"`
	Global Params      `json:"global"`

	tensor Tensor
}

func geoRand(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

func geoF64(x []float32) []float64 {
	if x == nil {
		return nil
	}
	return geo64(x)
}

func geoSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// geoMake builds a case: base may be nil; data are the other models.
func geoMake(name, method string, shape []int, base []float32, data [][]float32, per []Params, global Params) geoCase {
	c := geoCase{Name: name, Method: method, Shape: shape, Base: geoF64(base), Per: per, Global: global}
	for _, d := range data {
		c.Data = append(c.Data, geo64(d))
	}
	if per == nil {
		per = make([]Params, len(data))
		for i := range per {
			per[i] = Params{}
		}
		c.Per = per
	}
	c.tensor = Tensor{Name: name, Shape: shape, Base: base, Data: data, Per: per, Global: global}
	return c
}

func geoCases() []geoCase {
	r := rand.New(rand.NewPCG(14, 2026))
	var cs []geoCase
	sh := []int{6, 5}
	n := geoSize(sh)
	rnd := func() []float32 { return geoRand(r, n) }
	w := func(ws ...float64) []Params {
		out := make([]Params, len(ws))
		for i, v := range ws {
			out[i] = Params{"weight": v}
		}
		return out
	}

	// slerp: random, and nearly collinear (|cos| > 0.9995 -> lerp), parallel and antiparallel
	cs = append(cs, geoMake("slerp/random", "slerp", sh, rnd(), [][]float32{rnd()}, nil, Params{"t": 0.3}))
	b := rnd()
	near := make([]float32, n)
	anti := make([]float32, n)
	for i := range near {
		near[i] = 2*b[i] + 0.01*float32(r.NormFloat64())
		anti[i] = -0.5 * b[i]
	}
	cs = append(cs, geoMake("slerp/collinear", "slerp", sh, b, [][]float32{near}, nil, Params{"t": 0.4}))
	cs = append(cs, geoMake("slerp/antiparallel", "slerp", sh, b, [][]float32{anti}, nil, Params{"t": 0.7}))
	// just outside the threshold: cos about 0.999 -> true slerp
	mid := make([]float32, n)
	for i := range mid {
		mid[i] = b[i] + 0.045*float32(r.NormFloat64())
	}
	cs = append(cs, geoMake("slerp/near-threshold", "slerp", sh, b, [][]float32{mid}, nil, Params{"t": 0.5}))

	// a zero base (norm <= eps is left unnormalised: cos = 0, θ = π/2)
	cs = append(cs, geoMake("slerp/zero-base", "slerp", sh, make([]float32, n), [][]float32{rnd()}, nil, Params{"t": 0.25}))

	// nuslerp
	cs = append(cs, geoMake("nuslerp/flatten", "nuslerp", sh, nil, [][]float32{rnd(), rnd()}, w(1, 3), Params{}))
	cs = append(cs, geoMake("nuslerp/flatten-base", "nuslerp", sh, rnd(), [][]float32{rnd(), rnd()}, w(2, 1), Params{}))
	cs = append(cs, geoMake("nuslerp/zero-weights", "nuslerp", sh, nil, [][]float32{rnd(), rnd()}, w(1, -1), Params{}))
	// per last dimension, with one row collinear (row 2 of the second = 3 x row 2 of the first)
	a0, a1 := rnd(), rnd()
	for j := 0; j < sh[1]; j++ {
		a1[2*sh[1]+j] = 3 * a0[2*sh[1]+j]
	}
	cs = append(cs, geoMake("nuslerp/rows", "nuslerp", sh, nil, [][]float32{a0, a1}, w(1, 1), Params{"nuslerp_flatten": 0}))
	// a zero row (cos = 0) and a row of norm about 1e-9 (its norm clamped to 1e-7)
	z0 := rnd()
	clear(z0[sh[1] : 2*sh[1]])
	for j := 3 * sh[1]; j < 4*sh[1]; j++ {
		z0[j] *= 1e-9
	}
	cs = append(cs, geoMake("nuslerp/zero-row", "nuslerp", sh, nil, [][]float32{z0, rnd()}, w(1, 3), Params{"nuslerp_flatten": 0}))
	// along the first dimension (columns), with one column collinear (parallel: an
	// antiparallel pair is ill-conditioned, sin θ ≈ 0 decided by rounding, in mergekit too)
	c0, c1 := rnd(), rnd()
	for i := 0; i < sh[0]; i++ {
		c1[i*sh[1]+1] = 2 * c0[i*sh[1]+1]
	}
	cs = append(cs, geoMake("nuslerp/row-wise", "nuslerp", sh, nil, [][]float32{c0, c1}, w(1, 2), Params{"nuslerp_flatten": 0, "nuslerp_row_wise": 1}))
	cs = append(cs, geoMake("nuslerp/row-wise-base", "nuslerp", sh, rnd(), [][]float32{rnd(), rnd()}, w(3, 1), Params{"nuslerp_flatten": 0, "nuslerp_row_wise": 1}))
	sh4 := []int{3, 2, 4, 2}
	n4 := geoSize(sh4)
	cs = append(cs, geoMake("nuslerp/4d-last", "nuslerp", sh4, nil, [][]float32{geoRand(r, n4), geoRand(r, n4)}, w(1, 2), Params{"nuslerp_flatten": 0}))
	cs = append(cs, geoMake("nuslerp/4d-row-wise", "nuslerp", sh4, nil, [][]float32{geoRand(r, n4), geoRand(r, n4)}, w(1, 2), Params{"nuslerp_flatten": 0, "nuslerp_row_wise": 1}))
	cs = append(cs, geoMake("nuslerp/1d-row-wise", "nuslerp", []int{7}, nil, [][]float32{geoRand(r, 7), geoRand(r, 7)}, w(1, 2), Params{"nuslerp_flatten": 0, "nuslerp_row_wise": 1}))

	// multislerp
	cs = append(cs, geoMake("multislerp/three", "multislerp", sh, nil, [][]float32{rnd(), rnd(), rnd()}, w(1, 2, 3), Params{}))
	cs = append(cs, geoMake("multislerp/three-base", "multislerp", sh, rnd(), [][]float32{rnd(), rnd(), rnd()}, w(0.2, 0.5, 0.3), Params{}))
	cs = append(cs, geoMake("multislerp/unnormalised", "multislerp", sh, nil, [][]float32{rnd(), rnd()}, w(0.7, 0.6), Params{"normalize_weights": 0}))
	// antipodal with equal weights: the weighted mean is zero -> linear fallback
	ap := rnd()
	neg := make([]float32, n)
	for i := range neg {
		neg[i] = -ap[i]
	}
	cs = append(cs, geoMake("multislerp/antipodal", "multislerp", sh, nil, [][]float32{ap, neg}, w(1, 1), Params{}))
	cs = append(cs, geoMake("multislerp/global-weight", "multislerp", sh, nil, [][]float32{rnd(), rnd(), rnd()}, []Params{{"weight": 2}, {}, {}}, Params{"weight": 1}))

	// karcher
	cs = append(cs, geoMake("karcher/three", "karcher", sh, nil, [][]float32{rnd(), rnd(), rnd()}, nil, Params{}))
	cs = append(cs, geoMake("karcher/with-base", "karcher", sh, rnd(), [][]float32{rnd(), rnd()}, nil, Params{}))
	cs = append(cs, geoMake("karcher/one-iter", "karcher", sh, nil, [][]float32{rnd(), rnd(), rnd(), rnd()}, nil, Params{"max_iter": 1}))
	cs = append(cs, geoMake("karcher/many-iter", "karcher", sh, nil, [][]float32{rnd(), rnd(), rnd()}, nil, Params{"max_iter": 100, "tol": 1e-9}))
	cs = append(cs, geoMake("karcher/zero-model", "karcher", sh, nil, [][]float32{rnd(), make([]float32, n), rnd()}, nil, Params{}))
	// two antipodal pairs: the mean of the unit vectors is zero, so the first unit vector is the start
	ka, kb := rnd(), rnd()
	kna, knb := make([]float32, n), make([]float32, n)
	for i := range ka {
		kna[i], knb[i] = -ka[i], -kb[i]
	}
	cs = append(cs, geoMake("karcher/antipodal-pairs", "karcher", sh, nil, [][]float32{ka, kna, kb, knb}, nil, Params{}))
	// three unit directions 120° apart in a plane (their mean is below tol), of
	// norms 1, 2, 0.5: the start is the first unit vector, where the other two
	// pull equally, so the result is the first direction times the mean norm
	e, f := geo64(rnd()), geo64(rnd())
	ne := geoNorm(e)
	for i := range e {
		e[i] /= ne
	}
	ef := geoDot(e, f)
	for i := range f {
		f[i] -= ef * e[i]
	}
	nf := geoNorm(f)
	k1, k2, k3 := make([]float32, n), make([]float32, n), make([]float32, n)
	for i := range e {
		f[i] /= nf
		k1[i] = float32(e[i])
		k2[i] = float32(2 * (-0.5*e[i] + math.Sqrt(3)/2*f[i]))
		k3[i] = float32(0.5 * (-0.5*e[i] - math.Sqrt(3)/2*f[i]))
	}
	cs = append(cs, geoMake("karcher/balanced", "karcher", sh, nil, [][]float32{k1, k2, k3}, nil, Params{}))
	// a cluster (angles of a few tenths of a radian), where the mean moves little per step
	kc := rnd()
	var cluster [][]float32
	for m := 0; m < 4; m++ {
		x := make([]float32, n)
		for i := range x {
			x[i] = kc[i] + 0.3*float32(r.NormFloat64())
		}
		cluster = append(cluster, x)
	}
	cs = append(cs, geoMake("karcher/cluster", "karcher", sh, nil, cluster, nil, Params{}))

	// model_stock: deltas sharing a direction so that cos is away from 0
	ms := func(name string, shape []int, k int, global Params) geoCase {
		m := geoSize(shape)
		base := geoRand(r, m)
		common := geoRand(r, m)
		var data [][]float32
		for i := 0; i < k; i++ {
			d := geoRand(r, m)
			for j := range d {
				d[j] = base[j] + 0.1*(common[j]+0.8*d[j])
			}
			data = append(data, d)
		}
		return geoMake(name, "model_stock", shape, base, data, nil, global)
	}
	cs = append(cs, ms("model_stock/two", sh, 2, Params{}))
	cs = append(cs, ms("model_stock/four", sh, 4, Params{}))
	cs = append(cs, ms("model_stock/filter-wise", sh, 3, Params{"filter_wise": 1}))
	cs = append(cs, ms("model_stock/filter-wise-1d", []int{9}, 3, Params{"filter_wise": 1}))
	cs = append(cs, ms("model_stock/filter-wise-4d", sh4, 2, Params{"filter_wise": 1}))
	// a row where one model equals the base (zero offset: norms' product clamped to 1e-6, cos = 0, t = 0)
	zr := ms("model_stock/zero-offset-row", sh, 3, Params{"filter_wise": 1})
	copy(zr.tensor.Data[1][:sh[1]], zr.tensor.Base[:sh[1]])
	copy(zr.Data[1][:sh[1]], zr.Base[:sh[1]])
	cs = append(cs, zr)

	// nearswap: some values within t of each other
	nb := rnd()
	no := make([]float32, n)
	for i := range no {
		no[i] = nb[i] + 0.2*float32(r.NormFloat64())
	}
	cs = append(cs, geoMake("nearswap/t0.1", "nearswap", sh, nb, [][]float32{no}, nil, Params{"t": 0.1}))
	cs = append(cs, geoMake("nearswap/t0.001", "nearswap", sh, nb, [][]float32{no}, nil, Params{"t": 0.001}))
	return cs
}

// geoRelErr is the largest element-wise |got-want| / max(|want|, 1e-6).
func geoRelErr(got []float32, want []float64) float64 {
	worst := 0.0
	for i := range want {
		e := math.Abs(float64(got[i])-want[i]) / math.Max(math.Abs(want[i]), 1e-6)
		if math.IsNaN(e) {
			return math.Inf(1)
		}
		worst = math.Max(worst, e)
	}
	return worst
}

// TestGeometricAgainstNumpy compares every geometric method with the
// independent numpy implementation in testdata/geometric_reference.py.
func TestGeometricAgainstNumpy(t *testing.T) {
	if out, err := exec.Command(testenv.Python, "-c", "import numpy").CombinedOutput(); err != nil {
		testenv.Need(t, testenv.Torch, fmt.Errorf("%s cannot import numpy (Debian package python3-numpy): %v %s", testenv.Python, err, strings.TrimSpace(string(out))))
	}
	cases := geoCases()
	in, err := json.Marshal(map[string]any{"cases": cases})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "in.json")
	if err := os.WriteFile(file, in, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.Python, filepath.Join("testdata", "geometric_reference.py"), file)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("reference script: %v\n%s", err, stderr.String())
	}
	var want map[string][]float64
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("reference output: %v", err)
	}
	worstByMethod := map[string]float64{}
	for _, c := range cases {
		m, ok := Lookup(c.Method)
		if !ok {
			t.Fatalf("%s not registered", c.Method)
		}
		got, err := m.Merge(c.tensor)
		if err != nil {
			t.Errorf("%s: %v", c.Name, err)
			continue
		}
		w, ok := want[c.Name]
		if !ok || len(w) != len(got) {
			t.Errorf("%s: reference gave %d values, Go %d", c.Name, len(w), len(got))
			continue
		}
		e := geoRelErr(got, w)
		worstByMethod[c.Method] = math.Max(worstByMethod[c.Method], e)
		t.Logf("%-28s max relative error %.2e", c.Name, e)
		if e > 1e-5 {
			t.Errorf("%s: max relative error %.3g > 1e-5\n got %v\nwant %v", c.Name, e, got, w)
		}
	}
	for _, name := range Names() {
		if e, ok := worstByMethod[name]; ok {
			t.Logf("%s: worst relative error %.2e", name, e)
		}
	}
}

// TestModelStockByHand checks model stock's ratio on small vectors whose
// angles are known.
func TestModelStockByHand(t *testing.T) {
	ms, _ := Lookup("model_stock")
	// Two models, base w0 = (1, 1): offsets d1 = (2, 0) and d2 = (1, √3), both of
	// length 2 at 60°, so cos θ = (2·1 + 0·√3)/(2·2) = 0.5 and with k = 2
	// t = 2·0.5 / (1 + 1·0.5) = 2/3. mean(w) = ((3+2)/2, (1 + 1+√3)/2) =
	// (2.5, 1 + √3/2); result = 2/3·(2.5, 1 + √3/2) + 1/3·(1, 1)
	// = (5/3 + 1/3, 2/3 + √3/3 + 1/3) = (2, 1 + √3/3) = (2, 1.5773503).
	s3 := math.Sqrt(3)
	got, err := ms.Merge(Tensor{Name: "hand2", Shape: []int{2},
		Base: []float32{1, 1}, Data: [][]float32{{3, 1}, {2, float32(1 + s3)}}, Per: []Params{{}, {}}, Global: Params{}})
	if err != nil {
		t.Fatal(err)
	}
	geoClose(t, "two models", got, []float64{2, 1 + s3/3}, 1e-6)

	// Three models, base 0: d1 = (1,0,0), d2 = (0,1,0), d3 = (1,1,0). Pairwise
	// cosines 0, 1/√2, 1/√2; their mean is √2/3. With k = 3,
	// t = 3·(√2/3) / (1 + 2·√2/3) = 3√2/(3 + 2√2) = 3√2(3 − 2√2) = 9√2 − 12
	// = 0.7279221. mean(w) = (2/3, 2/3, 0), so the result is
	// t·(2/3, 2/3, 0) = (6√2 − 8)·(1, 1, 0) = (0.4852814, 0.4852814, 0).
	got, err = ms.Merge(Tensor{Name: "hand3", Shape: []int{3},
		Base: []float32{0, 0, 0}, Data: [][]float32{{1, 0, 0}, {0, 1, 0}, {1, 1, 0}}, Per: []Params{{}, {}, {}}, Global: Params{}})
	if err != nil {
		t.Fatal(err)
	}
	r := 6*math.Sqrt2 - 8
	geoClose(t, "three models", got, []float64{r, r, 0}, 1e-6)

	// filter_wise on a [2,2] tensor: row 0 is the two-model example above
	// (t = 2/3); row 1 has orthogonal offsets (1,0) and (0,1) from base (5,5),
	// cos θ = 0, t = 0, so row 1 stays the base's (5, 5). Flattened instead, the
	// offsets are (2,0,1,0) and (1,√3,0,1): cos = 2/(√5·√5) = 0.4, t = 0.8/1.4
	// = 4/7, and entry [1][0] = 4/7·5.5 + 3/7·5 = 37/7 = 5.2857143.
	tensor := Tensor{Name: "hand-rows", Shape: []int{2, 2},
		Base: []float32{1, 1, 5, 5}, Data: [][]float32{{3, 1, 6, 5}, {2, float32(1 + s3), 5, 6}},
		Per: []Params{{}, {}}, Global: Params{"filter_wise": 1}}
	got, err = ms.Merge(tensor)
	if err != nil {
		t.Fatal(err)
	}
	geoClose(t, "filter_wise", got, []float64{2, 1 + s3/3, 5, 5}, 1e-6)
	tensor.Global = Params{"filter_wise": 0}
	got, err = ms.Merge(tensor)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(float64(got[2])-37.0/7) > 1e-5 {
		t.Errorf("flattened: entry [1][0] = %v, want 37/7 = %v", got[2], 37.0/7)
	}
}

func geoClose(t *testing.T, what string, got []float32, want []float64, tol float64) {
	t.Helper()
	for i := range want {
		if math.Abs(float64(got[i])-want[i]) > tol {
			t.Errorf("%s: got %v, want %v", what, got, want)
			return
		}
	}
}

// TestGeometricProperties checks the end points and fixed points.
func TestGeometricProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	a, b := geoRand(r, 20), geoRand(r, 20)
	collinear := make([]float32, 20)
	for i := range collinear {
		collinear[i] = 3 * a[i]
	}
	slerp, _ := Lookup("slerp")
	for _, other := range [][]float32{b, collinear} {
		for _, tc := range []struct {
			t    float64
			want []float32
		}{{0, a}, {1, other}} {
			got, err := slerp.Merge(Tensor{Name: "p", Shape: []int{4, 5}, Base: a, Data: [][]float32{other}, Per: []Params{{}}, Global: Params{"t": tc.t}})
			if err != nil {
				t.Fatal(err)
			}
			geoClose(t, fmt.Sprintf("slerp t=%v", tc.t), got, geo64(tc.want), 1e-5)
		}
	}
	// the collinear case is a straight line: t = 0.5 is the midpoint
	got, _ := slerp.Merge(Tensor{Name: "p", Shape: []int{20}, Base: a, Data: [][]float32{collinear}, Per: []Params{{}}, Global: Params{"t": 0.5}})
	mid := make([]float64, 20)
	for i := range mid {
		mid[i] = 2 * float64(a[i])
	}
	geoClose(t, "slerp collinear midpoint", got, mid, 1e-5)
	// a true slerp keeps the norm of two equal-norm vectors (a lerp would shrink it)
	bn := make([]float32, 20)
	na, nb := geoNorm(geo64(a)), geoNorm(geo64(b))
	for i := range bn {
		bn[i] = float32(float64(b[i]) * na / nb)
	}
	got, _ = slerp.Merge(Tensor{Name: "p", Shape: []int{20}, Base: a, Data: [][]float32{bn}, Per: []Params{{}}, Global: Params{"t": 0.5}})
	if n := geoNorm(geo64(got)); math.Abs(n-na) > 1e-4*na {
		t.Errorf("slerp of equal-norm vectors: norm %v, want %v", n, na)
	}

	karcher, _ := Lookup("karcher")
	got, err := karcher.Merge(Tensor{Name: "k", Shape: []int{20}, Data: [][]float32{a, a, a}, Per: []Params{{}, {}, {}}, Global: Params{}})
	if err != nil {
		t.Fatal(err)
	}
	geoClose(t, "karcher of identical tensors", got, geo64(a), 1e-5)

	nearswap, _ := Lookup("nearswap")
	got, err = nearswap.Merge(Tensor{Name: "n", Shape: []int{20}, Base: a, Data: [][]float32{b}, Per: []Params{{}}, Global: Params{"t": 0}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i] != a[i] {
			t.Fatalf("nearswap t=0: element %d = %v, want the base's %v", i, got[i], a[i])
		}
	}
	// a t larger than every difference swaps in the other model entirely
	got, _ = nearswap.Merge(Tensor{Name: "n", Shape: []int{20}, Base: a, Data: [][]float32{b}, Per: []Params{{}}, Global: Params{"t": 100}})
	geoClose(t, "nearswap large t", got, geo64(b), 0)
}

// TestGeometricSpecs checks what a configuration is held to.
func TestGeometricSpecs(t *testing.T) {
	for _, c := range []struct {
		name     string
		base     bool
		min, max int
		required []string
	}{
		{"slerp", true, 1, 1, []string{"t"}},
		{"nuslerp", false, 2, 2, []string{"weight"}},
		{"multislerp", false, 1, 0, []string{"weight"}},
		{"karcher", false, 1, 0, nil},
		{"model_stock", true, 2, 0, nil},
		{"nearswap", true, 1, 1, []string{"t"}},
	} {
		m, ok := Lookup(c.name)
		if !ok {
			t.Errorf("%s is not registered", c.name)
			continue
		}
		s := m.Spec()
		if s.NeedsBase != c.base || s.MinModels != c.min || s.MaxModels != c.max {
			t.Errorf("%s: base %v models %d..%d, want %v %d..%d", c.name, s.NeedsBase, s.MinModels, s.MaxModels, c.base, c.min, c.max)
		}
		for _, p := range s.Params {
			want := false
			for _, r := range c.required {
				want = want || r == p.Name
			}
			if p.Required != want {
				t.Errorf("%s: %s required = %v", c.name, p.Name, p.Required)
			}
			if !p.Required && (p.Default < p.Min || p.Default > p.Max) {
				t.Errorf("%s: %s default %v outside [%v, %v]", c.name, p.Name, p.Default, p.Min, p.Max)
			}
		}
	}
	// multislerp of antipodal tensors with more than two models is an error, as in mergekit
	ms, _ := Lookup("multislerp")
	a := []float32{1, 2}
	na := []float32{-1, -2}
	if _, err := ms.Merge(Tensor{Name: "x", Shape: []int{2}, Data: [][]float32{a, na, a, na}, Per: []Params{{"weight": 1}, {"weight": 1}, {"weight": 1}, {"weight": 1}}, Global: Params{}}); err == nil {
		t.Error("multislerp of balanced antipodal tensors: no error")
	}
}
