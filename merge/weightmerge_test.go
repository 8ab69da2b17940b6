package merge

import (
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/vit"
)

func tinyModels(t *testing.T, n int) (*vit.Model, []*vit.Model) {
	t.Helper()
	c := tinyConfig(vit.Shuffle)
	base := tinyModel(t, "base", c, 100)
	var ms []*vit.Model
	for i := 0; i < n; i++ {
		ms = append(ms, tinyModel(t, "m"+string(rune('a'+i)), c, uint64(i+1)))
	}
	return base, ms
}

// A whole-model merge is the method applied to each tensor on its own.
func TestWeightMergeIsPerTensor(t *testing.T) {
	base, ms := tinyModels(t, 3)
	cases := []struct {
		method string
		models []*vit.Model
		per    []methods.Params
		global methods.Params
	}{
		{"ties", ms, []methods.Params{{"weight": 0.3}, {"weight": 0.5}, {"weight": 0.2, "density": 0.7}}, methods.Params{"density": 0.5, "lambda": 1.2}},
		{"slerp", ms[:1], nil, methods.Params{"t": 0.3}},
	}
	for _, tc := range cases {
		got, err := WeightMerge("out", tc.method, base, tc.models, tc.per, tc.global, 7)
		if err != nil {
			t.Fatalf("%s: %v", tc.method, err)
		}
		if err := vit.SameShapes(got, ms[0]); err != nil {
			t.Fatal(err)
		}
		if got.Name != "out" || len(got.Blocks) != len(ms[0].Blocks) {
			t.Fatalf("%s: result %s with %d blocks", tc.method, got.Name, len(got.Blocks))
		}
		m, _ := methods.Lookup(tc.method)
		per := tc.per
		if per == nil {
			per = make([]methods.Params, len(tc.models))
			for i := range per {
				per[i] = methods.Params{}
			}
		}
		bp := base.Params()
		for k, p := range got.Params() {
			tt := methods.Tensor{Name: p.Name, Shape: p.Shape, Base: bp[k].Data(), Per: per, Global: tc.global}
			for _, src := range tc.models {
				tt.Data = append(tt.Data, src.Params()[k].Data())
			}
			want, err := m.Merge(tt)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(want, p.Data()) {
				t.Fatalf("%s: tensor %s differs from the method applied to it alone", tc.method, p.Name)
			}
		}
		// The sources are untouched and not shared.
		if &got.Params()[0].Data()[0] == &tc.models[0].Params()[0].Data()[0] {
			t.Fatal("the result shares memory with a source")
		}
	}
}

// linear with equal weights is the uniform soup.
func TestWeightMergeLinearIsAverage(t *testing.T) {
	_, ms := tinyModels(t, 3)
	got, err := WeightMerge("lin", "linear", nil, ms, nil, methods.Params{"weight": 1}, 0)
	if err != nil {
		t.Fatal(err)
	}
	want, err := Average("soup", ms...)
	if err != nil {
		t.Fatal(err)
	}
	wp := want.Params()
	for k, p := range got.Params() {
		if d := maxAbsDiff(p.Data(), wp[k].Data()); d > 1e-7 {
			t.Fatalf("%s: linear differs from the average by %g", p.Name, d)
		}
	}
}

// Every problem is named in one error, and nothing is merged.
func TestCheckWeightMergeNamesEveryProblem(t *testing.T) {
	base, ms := tinyModels(t, 2)
	other := tinyModel(t, "wide", vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 8, Heads: 2, MLP: 24, Depth: 3, Classes: 4, Variant: vit.Shuffle}, 9)
	before := slices.Clone(ms[0].Params()[0].Data())
	models := []*vit.Model{ms[0], other, ms[1]}
	per := []methods.Params{{"weight": 1, "colour": 3}, {"density": 2}, {"weight": 1, "lambda": 1}}
	global := methods.Params{"normalize": 0.5, "gamma": 0.1, "lambda": math.Inf(1)}
	out, err := WeightMerge("x", "ties", nil, models, per, global, 1)
	if out != nil || err == nil {
		t.Fatal("a bad merge ran")
	}
	var pe *ProblemsError
	if !errors.As(err, &pe) {
		t.Fatalf("not a ProblemsError: %v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		"needs a base model",
		`model 1: unknown parameter "colour"`,
		`unknown parameter "gamma"`,
		"density = 2 is out of range",
		"ties: lambda = +Inf is not a finite number", // its range is open: the JSON record cannot hold it
		"normalize is a switch",
		"weight for model(s) 2",
		"model 3: lambda is a merge-wide parameter",
		"model wide has another shape",
		"patch_embed.proj.weight",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message does not say %q: %s", want, msg)
		}
	}
	if !slices.Equal(before, ms[0].Params()[0].Data()) {
		t.Fatal("a source changed")
	}

	// The count of models, a required merge-wide parameter, an unknown method, a base of another shape.
	msg = CheckWeightMerge("slerp", base, ms, nil, nil).Error()
	for _, want := range []string{"at most 1 model", "needs parameter t"} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message does not say %q: %s", want, msg)
		}
	}
	msg = CheckWeightMerge("tie", nil, ms, nil, nil).Error()
	if !strings.Contains(msg, `unknown method "tie"`) || !strings.Contains(msg, "ties") {
		t.Errorf("unknown method: %s", msg)
	}
	msg = CheckWeightMerge("task_arithmetic", other, ms, nil, methods.Params{"weight": 1}).Error()
	if !strings.Contains(msg, "base wide has another shape") {
		t.Errorf("base shape: %s", msg)
	}
	// A base given to a method that takes none is accepted (mergekit ignores it).
	if err := CheckWeightMerge("linear", other, ms, nil, methods.Params{"weight": 1}); err != nil {
		t.Errorf("linear with a base: %v", err)
	}
}

// dare_ties draws from the seed: the same seed, the same weights.
func TestWeightMergeSeeded(t *testing.T) {
	base, ms := tinyModels(t, 3)
	g := methods.Params{"weight": 1, "density": 0.5}
	a, err := WeightMerge("a", "dare_ties", base, ms, nil, g, 3)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := WeightMerge("b", "dare_ties", base, ms, nil, g, 3)
	c, _ := WeightMerge("c", "dare_ties", base, ms, nil, g, 4)
	same, differ := true, false
	cp := c.Params()
	for k, p := range a.Params() {
		same = same && slices.Equal(p.Data(), b.Params()[k].Data())
		differ = differ || !slices.Equal(p.Data(), cp[k].Data())
	}
	if !same {
		t.Error("the same seed gave other weights")
	}
	if !differ {
		t.Error("another seed gave the same weights")
	}
	// And the generator of tensor k is seeded by (seed, k) only.
	m, _ := methods.Lookup("dare_ties")
	k := len(a.Params()) - 1
	tt := methods.Tensor{Name: "last", Base: base.Params()[k].Data(), Global: g, Per: []methods.Params{{}, {}, {}}, Rand: rand.New(rand.NewPCG(3, uint64(k)))}
	for _, s := range ms {
		tt.Data = append(tt.Data, s.Params()[k].Data())
	}
	want, _ := m.Merge(tt)
	if !slices.Equal(want, a.Params()[k].Data()) {
		t.Error("tensor k is not merged with the generator seeded by (seed, k)")
	}
}
