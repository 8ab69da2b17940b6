package merge

import (
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/vit"
)

// infosOf is a lookup over models in memory (the manifests' facts).
func infosOf(task map[string]string, ms ...*vit.Model) func(string) (ModelInfo, bool) {
	by := map[string]*vit.Model{}
	for _, m := range ms {
		by[m.Name] = m
	}
	return func(name string) (ModelInfo, bool) {
		m, ok := by[name]
		if !ok {
			return ModelInfo{}, false
		}
		return ModelInfo{Config: m.Config, Depth: len(m.Blocks), Task: task[name]}, true
	}
}

func planOf(t *testing.T, text string, ms ...*vit.Model) *MergekitPlan {
	t.Helper()
	c, err := ParseMergekit([]byte(text))
	if c == nil {
		t.Fatal(err)
	}
	pl, err := c.Plan(infosOf(nil, ms...), err)
	if err != nil {
		t.Fatal(err)
	}
	return pl
}

func runPlan(t *testing.T, pl *MergekitPlan, name string, ms ...*vit.Model) *WeightMergeResult {
	t.Helper()
	by := map[string]*vit.Model{}
	for _, m := range ms {
		by[m.Name] = m
	}
	var models []*vit.Model
	for _, n := range pl.Names {
		models = append(models, by[n])
	}
	res, err := MergeWeights(pl.Spec(name, models, 1))
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestGradient(t *testing.T) {
	// mergekit's interpolation: positions spread evenly over t in 0..1.
	vs := []float64{1, 0.7, 0.1}
	for _, c := range []struct{ t, want float64 }{{0, 1}, {0.25, 0.85}, {0.5, 0.7}, {0.75, 0.4}, {1, 0.1}} {
		if got := gradient(vs, c.t); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("gradient %v at %v = %v, want %v", vs, c.t, got, c.want)
		}
	}
	if got := gradient([]float64{0.3}, 0.6); got != 0.3 {
		t.Errorf("a number is not a gradient: %v", got)
	}
}

func TestFilterMatches(t *testing.T) {
	ref := func(name, part string, block int) TensorRef {
		return TensorRef{Name: name, Part: part, Block: block, Depth: 3}
	}
	cases := []struct {
		filter string
		ref    TensorRef
		want   bool
	}{
		{"self_attn", ref("blocks.1.attn.qkv.weight", "block", 1), true},
		{"attn", ref("blocks.1.attn.proj.bias", "block", 1), true},
		{"self_attn", ref("blocks.1.mlp.fc1.weight", "block", 1), false},
		{"mlp", ref("blocks.2.mlp.fc2.bias", "block", 2), true},
		{"norm", ref("blocks.0.norm1.weight", "block", 0), true},
		{"norm", ref("norm.bias", "head", -1), true},
		{"stem", ref("pos_embed", "stem", -1), true},
		{"stem", ref("blocks.0.norm1.weight", "block", 0), false},
		{"head", ref("head.weight", "head", -1), true},
		{"head", ref("norm.weight", "head", -1), true},
		{"head", ref("blocks.0.pos_head.fc.weight", "block", 0), false},
		{"qkv", ref("blocks.0.attn.qkv.bias", "block", 0), true},
		{"*", ref("cls_token", "stem", -1), true},
	}
	for _, c := range cases {
		if got := FilterMatches(c.filter, c.ref); got != c.want {
			t.Errorf("filter %q on %s = %v, want %v", c.filter, c.ref.Name, got, c.want)
		}
	}
}

// TestMergekitTiesExample runs the documentation's TIES example (stored in
// examples/mergekit/ties.yaml) and checks every tensor against the method
// applied by hand with the parameters mergekit's rules give it: gradients
// over the depth (t = i/(depth-1); stem and head at t = 0), filters with a
// fallback, the top-level parameters for every model.
func TestMergekitTiesExample(t *testing.T) {
	text, err := os.ReadFile("../examples/mergekit/ties.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c := tinyConfig(vit.Shuffle)
	parent := tinyModel(t, "pop-parent", c, 9)
	ms := []*vit.Model{tinyModel(t, "pop-0", c, 1), tinyModel(t, "pop-1", c, 2), tinyModel(t, "pop-2", c, 3)}
	cfg, err := ParseMergekit(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "float32") {
		t.Errorf("warnings %q: want one about float16", cfg.Warnings)
	}
	all := append([]*vit.Model{parent}, ms...)
	pl, err := cfg.Plan(infosOf(nil, all...), nil)
	if err != nil {
		t.Fatal(err)
	}
	res := runPlan(t, pl, "out", all...)
	if pl.Base != "pop-parent" || !slices.Equal(pl.Names, []string{"pop-0", "pop-1", "pop-2", "pop-parent"}) {
		t.Fatalf("plan names %v base %q", pl.Names, pl.Base)
	}
	ties, _ := methods.Lookup("ties")
	k := 0
	check := func(part string, block int, outP []*vit.Param, srcs func(m *vit.Model) []*vit.Param) {
		for j, p := range outP {
			name := p.Name
			tt := 0.0
			if part == "block" {
				name = "blocks." + string(rune('0'+block)) + "." + p.Name
				tt = float64(block) / 2
			}
			w3 := 0.0
			if strings.Contains(name, "mlp") {
				w3 = 0.5
			}
			per := []methods.Params{
				{"density": gradient([]float64{1, 0.7, 0.1}, tt), "weight": 1},
				{"density": 0.5, "weight": gradient([]float64{0, 0.3, 0.7, 1}, tt)},
				{"density": 0.33, "weight": w3},
			}
			tensor := methods.Tensor{Name: name, Shape: p.Shape, Base: srcs(parent)[j].Data(), Per: per,
				Global: methods.Params{"normalize": 1, "int8_mask": 1}, Rand: rand.New(rand.NewPCG(1, uint64(k)))}
			for _, m := range ms {
				tensor.Data = append(tensor.Data, srcs(m)[j].Data())
			}
			k++
			want, err := ties.Merge(tensor)
			if err != nil {
				t.Fatal(err)
			}
			if d := maxAbsDiff(want, p.Data()); d > 0 {
				t.Errorf("%s differs from ties by hand by %g", name, d)
			}
		}
	}
	check("stem", -1, res.Model.Stem.Params(), func(m *vit.Model) []*vit.Param { return m.Stem.Params() })
	for i, b := range res.Model.Blocks {
		check("block", i, b.Params(), func(m *vit.Model) []*vit.Param { return m.Blocks[i].Params() })
	}
	check("head", -1, res.Model.Head.Params(), func(m *vit.Model) []*vit.Param { return m.Head.Params() })
}

// TestMergekitLinearEqualsWeightMerge: the models form with weights is
// WeightMerge with those weights.
func TestMergekitLinearEqualsWeightMerge(t *testing.T) {
	c := tinyConfig(vit.Baseline)
	a, b := tinyModel(t, "a", c, 1), tinyModel(t, "b", c, 2)
	pl := planOf(t, "merge_method: linear\nmodels:\n  - model: a\n    parameters: {weight: 0.3}\n  - model: b\n    parameters: {weight: 0.7}\n", a, b)
	got := runPlan(t, pl, "x", a, b).Model
	want, err := WeightMerge("x", "linear", nil, []*vit.Model{a, b}, []methods.Params{{"weight": 0.3}, {"weight": 0.7}}, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	gp, wp := got.Params(), want.Params()
	for i := range gp {
		if d := maxAbsDiff(gp[i].Data(), wp[i].Data()); d != 0 {
			t.Errorf("%s differs by %g", gp[i].Name, d)
		}
	}
}

// TestMergekitSlicesSlerp: the gradient SLERP example with slices, blocks of
// other depths (layer_range [1, 3] of b against [0, 2] of a), a filter per
// sub-layer.
func TestMergekitSlicesSlerp(t *testing.T) {
	c := tinyConfig(vit.Shuffle)
	a, b := tinyModel(t, "a", c, 1), tinyModel(t, "b", c, 2)
	text := `slices:
  - sources:
      - model: a
        layer_range: [0, 2]
      - model: b
        layer_range: [1, 3]
merge_method: slerp
base_model: a
parameters:
  t:
    - filter: self_attn
      value: [0, 1]
    - value: 0.5
`
	pl := planOf(t, text, a, b)
	res := runPlan(t, pl, "x", a, b).Model
	if len(res.Blocks) != 2 {
		t.Fatalf("%d blocks, want 2", len(res.Blocks))
	}
	// Slot 0: t = 0 on attention: a's block 0 exactly; slot 1: t = 1 on
	// attention: b's block 2 exactly.
	if d := maxAbsDiff(res.Blocks[0].QkvW.Data(), a.Blocks[0].QkvW.Data()); d > 1e-6 {
		t.Errorf("slot 0 attention is not a's block 0 (t=0): %g", d)
	}
	if d := maxAbsDiff(res.Blocks[1].QkvW.Data(), b.Blocks[2].QkvW.Data()); d > 1e-6 {
		t.Errorf("slot 1 attention is not b's block 2 (t=1): %g", d)
	}
	if d := maxAbsDiff(res.Blocks[1].Fc1W.Data(), b.Blocks[2].Fc1W.Data()); d < 1e-4 {
		t.Errorf("slot 1 mlp should be halfway, not b's")
	}
}

// TestMergekitProblems: every problem of a bad configuration in one
// message, with its line.
func TestMergekitProblems(t *testing.T) {
	c := tinyConfig(vit.Shuffle)
	wide := c
	wide.Dim, wide.MLP = 32, 48
	a, b := tinyModel(t, "a", c, 1), tinyModel(t, "b", c, 2)
	w := tinyModel(t, "w", wide, 3)
	text := `merge_method: ties
base_model: w
colour: blue
tokenizer_source: base
slices:
  - sources:
      - model: a
        layer_range: [0, 2]
        parameters: {density: [1, 1.4], lambda: 2, weight: 1}
      - model: b
        layer_range: [0, 5]
        parameters: {weight: 1}
      - model: ghost
        layer_range: [0, 2]
parameters:
  normalize: 0.5
  flavour: 1
  density:
    - filter: q_proj
      value: 0.5
    - value: 0.7
`
	cfg, ferr := ParseMergekit([]byte(text))
	if cfg == nil {
		t.Fatal(ferr)
	}
	_, err := cfg.Plan(infosOf(nil, a, b, w), ferr)
	if err == nil {
		t.Fatal("a bad configuration was planned")
	}
	for _, want := range []string{
		`line 3: unknown key "colour"`,
		"line 9: density = 1.4 is out of range [0, 1]",
		"line 9: lambda is a merge-wide parameter",
		`line 13: unknown model "ghost"`,
		"line 10: layer_range [0, 5] of b is beyond its 3 blocks",
		"line 2: model w has another shape than a: dim 32, not 16",
		"line 16: normalize is a switch",
		`line 17: unknown parameter "flavour"`,
		`line 19: density: filter "q_proj" selects no tensor`,
		"line 6: the slice has no source of the base model w",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
	if len(cfg.Warnings) != 1 || !strings.Contains(cfg.Warnings[0], "tokenizer_source") {
		t.Errorf("warnings %q", cfg.Warnings)
	}

	// The rest: slerp without t, one model; slices of different lengths;
	// the base missing from a slice; no base for ties.
	for _, tc := range []struct{ text, want string }{
		{"merge_method: slerp\nbase_model: a\nmodels:\n  - model: a\n  - model: b\n", "slerp needs parameter t"},
		{"merge_method: slerp\nbase_model: a\nparameters: {t: [0.2, 1.5]}\nmodels:\n  - model: a\n  - model: b\n", "line 3: t = 1.5 is out of range"},
		{"merge_method: slerp\nbase_model: a\nparameters: {t: .nan}\nmodels:\n  - model: a\n  - model: b\n", `line 3: t must be a number or true/false, got ".nan"`},
		{"merge_method: task_arithmetic\nbase_model: a\nparameters: {lambda: .inf}\nmodels:\n  - {model: b, parameters: {weight: 1}}\n", "line 3: lambda = +Inf is not a finite number"},
		{"merge_method: slerp\nbase_model: a\nparameters:\n  t:\n    - filter: attn\n      value: 0.3\nmodels:\n  - model: a\n  - model: b\n", "needs parameter t"},
		{"merge_method: slerp\nbase_model: a\nparameters: {t: 0.5}\nmodels:\n  - model: a\n", "slerp merges at least 1 model(s) besides the base, got 0"},
		{"merge_method: linear\nslices:\n  - sources:\n      - {model: a, layer_range: [0, 2], parameters: {weight: 1}}\n      - {model: b, layer_range: [0, 3], parameters: {weight: 1}}\n", "line 3: the sources of the slice have different lengths"},
		{"merge_method: ties\nbase_model: b\nslices:\n  - sources:\n      - {model: a, layer_range: [0, 2], parameters: {weight: 1}}\n", "line 4: the slice has no source of the base model b"},
		{"merge_method: ties\nmodels:\n  - {model: a, parameters: {weight: 1}}\n", "ties needs base_model"},
		{"merge_method: frobnicate\nmodels:\n  - model: a\n", `line 1: unknown merge_method "frobnicate"`},
		{"merge_method: linear\nmodels:\n  - model: a\nslices: []\n", "give models or slices, not both"},
		{"merge_method: linear\ndtype: int4\nmodels:\n  - {model: a, parameters: {weight: 1}}\n", `line 2: dtype "int4" is not a type`},
		{"merge_method: linear\nmodules: {}\nmodels:\n  - {model: a, parameters: {weight: 1}}\n", "line 2: modules is mergekit's syntax"},
	} {
		cfg, ferr := ParseMergekit([]byte(tc.text))
		if cfg == nil {
			t.Fatalf("%q: %v", tc.text, ferr)
		}
		_, err := cfg.Plan(infosOf(nil, a, b, w), ferr)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want %q", tc.text, err, tc.want)
		}
	}
}

// TestMultiTaskHeads: a merge of models with Tasks keeps each task's head
// rows from the source whose own task it is; unowned tasks are merged.
func TestMultiTaskHeads(t *testing.T) {
	c := tinyConfig(vit.Baseline)
	c.Tasks = []string{"mnist", "fashion-mnist", "mnist@rot90"}
	c.Classes = 6 // 2 per task
	parent := tinyModel(t, "p-parent", c, 9)
	m0, m1 := tinyModel(t, "p-0", c, 1), tinyModel(t, "p-1", c, 2)
	tasks := map[string]string{"p-0": "mnist", "p-1": "fashion-mnist", "p-parent": "mnist,fashion-mnist,mnist@rot90"}
	text := "merge_method: task_arithmetic\nbase_model: p-parent\nparameters: {weight: 1, lambda: 0.5}\nmodels:\n  - model: p-0\n  - model: p-1\n"
	cfg, err := ParseMergekit([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	pl, err := cfg.Plan(infosOf(tasks, parent, m0, m1), nil)
	if err != nil {
		t.Fatal(err)
	}
	res := runPlan(t, pl, "x", parent, m0, m1)
	if res.Heads["mnist"] != "p-0" || res.Heads["fashion-mnist"] != "p-1" || res.Heads["mnist@rot90"] != "" {
		t.Errorf("heads %v", res.Heads)
	}
	D := c.Dim
	w := res.Model.Head.W.Data()
	row := func(m *vit.Model, r int) []float32 { return m.Head.W.Data()[r*D : (r+1)*D] }
	for r := 0; r < 2; r++ {
		if d := maxAbsDiff(w[r*D:(r+1)*D], row(m0, r)); d != 0 {
			t.Errorf("row %d (mnist) is not p-0's: %g", r, d)
		}
		if d := maxAbsDiff(w[(r+2)*D:(r+3)*D], row(m1, r+2)); d != 0 {
			t.Errorf("row %d (fashion-mnist) is not p-1's: %g", r+2, d)
		}
	}
	// Task 3's rows: parent + 0.5 * (m0 - parent + m1 - parent).
	for r := 4; r < 6; r++ {
		for j := 0; j < D; j++ {
			p := float64(row(parent, r)[j])
			want := p + 0.5*(float64(row(m0, r)[j])-p+float64(row(m1, r)[j])-p)
			if math.Abs(float64(w[r*D+j])-want) > 1e-5 {
				t.Fatalf("row %d col %d: %v, want %v", r, j, w[r*D+j], want)
			}
		}
	}
	b := res.Model.Head.B.Data()
	if b[0] != m0.Head.B.Data()[0] || b[3] != m1.Head.B.Data()[3] {
		t.Errorf("head bias rows are not their owners'")
	}
	// The shared final norm is merged.
	if d := maxAbsDiff(res.Model.Head.NormW.Data(), m0.Head.NormW.Data()); d == 0 {
		t.Errorf("the final norm was kept, not merged")
	}
}

func FuzzParseMergekit(f *testing.F) {
	if text, err := os.ReadFile("../examples/mergekit/ties.yaml"); err == nil {
		f.Add(string(text))
	}
	if text, err := os.ReadFile("../examples/mergekit/gradient-slerp.yaml"); err == nil {
		f.Add(string(text))
	}
	f.Add("merge_method: slerp\nbase_model: a\nparameters:\n  t:\n    - filter: attn\n      value: 0.3\nmodels:\n  - model: a\n  - model: b\n")
	f.Add("merge_method: linear\nslices:\n  - sources:\n      - {model: a, layer_range: [0, 2], parameters: {weight: [1, 2]}}\n")
	f.Add("merge_method: ties\nparameters: {density: {filter: mlp, value: [0.1, 0.9]}}\nmodels: [{model: a}]\n")
	f.Add("merge_method: [1]\nmodels: 3\n")
	c := tinyConfig(vit.Shuffle)
	info := func(name string) (ModelInfo, bool) {
		if name == "a" || name == "b" {
			return ModelInfo{Config: c, Depth: 3}, true
		}
		return ModelInfo{}, false
	}
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := ParseMergekit([]byte(text))
		if cfg == nil {
			if err == nil {
				t.Fatal("no config and no error")
			}
			return
		}
		pl, perr := cfg.Plan(info, err)
		if err != nil && perr == nil {
			t.Fatalf("problems of form were dropped: %v", err)
		}
		if perr != nil {
			if pl != nil {
				t.Fatal("a plan beside problems")
			}
			if strings.Contains(perr.Error(), "\n\n") {
				t.Fatalf("an empty problem: %q", perr)
			}
			return
		}
		// A checked plan gives a spec MergeWeights accepts on fitting models.
		if pl.Depth > 20 {
			return
		}
		var models []*vit.Model
		for i, n := range pl.Names {
			models = append(models, tinyModel(t, n, c, uint64(i+1)))
		}
		if _, err := MergeWeights(pl.Spec("x", models, 1)); err != nil {
			t.Fatalf("a checked plan failed: %v", err)
		}
	})
}
