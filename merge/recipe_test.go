package merge

import (
	"reflect"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

func TestParseRecipe(t *testing.T) {
	r, err := ParseRecipe([]byte(`
# blocks from three models
stem: b
slices:
  - model: a
    layer_range: [0, 2]
  - model: b
    blocks: [2, 0, 2]
  - {model: c, blocks: 1}
`))
	if err != nil {
		t.Fatal(err)
	}
	want := Splice{Stem: "b", Head: "b", Blocks: []Ref{{"a", 0}, {"a", 1}, {"b", 2}, {"b", 0}, {"b", 2}, {"c", 1}}}
	if got := r.Splice(); !reflect.DeepEqual(got, want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	if got := r.Models(); !reflect.DeepEqual(got, []string{"b", "a", "c"}) {
		t.Errorf("models %v", got)
	}
	// The stem defaults to the first slice's model, the head to the stem's.
	r, err = ParseRecipe([]byte("slices:\n- model: c\n  layer_range: [1, 2]\n"))
	if err != nil || r.Stem != "c" || r.Head != "c" {
		t.Errorf("defaults: %+v, %v", r, err)
	}
}

// Each bad recipe names every one of its problems in one error.
func TestParseRecipeProblems(t *testing.T) {
	for _, tc := range []struct {
		name, text string
		want       []string
	}{
		{"yaml syntax", "slices:\n  - model: a\n   blocks: [0\n", []string{"YAML syntax error", "line"}},
		{"two stems as a list", "stem: [a, b]\nslices: [{model: a, blocks: [0]}]\n", []string{"line 1: stem must name one model, got a list of 2"}},
		{"two stems as two fields", "stem: a\nslices: [{model: a, blocks: [0]}]\nstem: b\n", []string{"line 3: a second stem (the first is on line 1)"}},
		{"no slices", "stem: a\n", []string{"no slices: the plan would be empty"}},
		{"empty slices", "stem: a\nslices: []\n", []string{"slices is empty"}},
		{"empty document", "", []string{"the recipe is empty"}},
		{"not a mapping", "- a\n- b\n", []string{"must be a mapping"}},
		{"many at once", `stem: a
head: a
colour: red
slices:
  - model: a
    layer_range: [3, 1]
  - blocks: [0, -1, x]
  - model: b
  - model: c
    blocks: [0]
    layer_range: [0, 1]
  - 7
`, []string{"line 3: unknown field \"colour\"", "line 6: layer_range [3, 1] is empty", "line 7: the slice names no model",
			"line 7: a block index must be an integer in 0..10000, got -1", `a block index must be a non-negative integer, got "x"`,
			"line 8: the slice gives no blocks", "line 9: the slice gives both blocks and layer_range", "line 12: a slice must be a mapping",
			"8 problems"}},
		{"huge range", "slices: [{model: a, layer_range: [0, 99999999999]}]", []string{"must be an integer in 0..10000"}},
		{"a source field twice", "slices:\n  - method: linear\n    sources:\n      - model: a\n        blocks: [1]\n        model: b\n",
			[]string{`line 6: field "model" given twice in one source (the first is on line 4)`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseRecipe([]byte(tc.text))
			if err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("the error spans lines: %q", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestResolveReportsEveryModelProblem(t *testing.T) {
	wide := tinyConfig(vit.Shuffle)
	wide.Dim = 32
	p, _ := NewPool(tinyModel(t, "a", tinyConfig(vit.Shuffle), 1), tinyModel(t, "w", wide, 2))
	r, err := ParseRecipe([]byte(`stem: a
slices:
  - model: a
    layer_range: [1, 5]
  - model: ghost
    layer_range: [0, 3]
  - model: w
    blocks: [0]
`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Resolve(p)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, w := range []string{"line 3 (slot 2): block 3 is out of range: model a has blocks 0..2",
		"line 3 (slot 3): block 4 is out of range", `line 5 (slot 4): unknown model "ghost"`,
		"line 7 (slot 7): block w[0] has width 32, the stem's model a has width 16", "4 problems"} {
		if !strings.Contains(msg, w) {
			t.Errorf("error lacks %q:\n%s", w, msg)
		}
	}
	if strings.Count(msg, "ghost") != 1 {
		t.Errorf("the unknown model is reported once per slice, not per block:\n%s", msg)
	}
	r, _ = ParseRecipe([]byte("stem: a\nhead: w\nslices: [{model: a, blocks: [0]}]\n"))
	if _, err := r.Resolve(p); err == nil || !strings.Contains(err.Error(), "line 2: head: model w has width 32") {
		t.Errorf("a head of another width: %v", err)
	}
	r, _ = ParseRecipe([]byte("stem: a\nslices: [{model: a, blocks: [2, 0]}]\n"))
	s, err := r.Resolve(p)
	if err != nil || s.String() != "stem a, head a: a[2] a[0]" {
		t.Errorf("a good recipe: %v, %v", s, err)
	}
}

func FuzzParseRecipe(f *testing.F) {
	for _, seed := range []string{
		"stem: a\nslices:\n  - model: a\n    layer_range: [0, 3]\n  - model: b\n    blocks: [2, 1]\n",
		"slices: [{model: a, blocks: 1}]", "stem: [a, b]", "slices: []", "- 1", "stem: a\nstem: b",
		"slices: [{model: a, layer_range: [5, 2]}]", "a: &x [*x]", "slices: [{model: {x: 1}, blocks: [0x10]}]",
		"stem: a\nslices:\n  - method: linear\n    sources:\n      - {model: a, blocks: [2]}\n      - {model: b, blocks: [4], parameters: {weight: [1, 2]}}\n    parameters: {weight: 0.5}\n",
		"slices:\n  - method: ties\n    sources: [{model: a, layer_range: [0, 2]}]\n    base: {model: p, blocks: [1, 2]}\n    parameters: {density: [{filter: mlp, value: 0.3}, {value: 1}]}\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseRecipe(data)
		if err != nil {
			if err.Error() == "" || strings.Contains(err.Error(), "\n") && !strings.Contains(string(data), "\n") {
				t.Fatalf("bad message %q", err)
			}
			return
		}
		s := r.Splice()
		if len(s.Blocks) == 0 || s.Stem == "" || s.Head == "" {
			t.Fatalf("accepted a recipe without blocks, stem or head: %+v", s)
		}
		for _, b := range s.Blocks {
			if b.Model == "" || b.Index < 0 || b.Index > maxRecipeBlocks {
				t.Fatalf("accepted block %+v", b)
			}
		}
		if len(s.Blocks) > maxRecipeBlocks {
			t.Fatalf("accepted %d blocks", len(s.Blocks))
		}
	})
}
