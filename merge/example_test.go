package merge_test

import (
	"fmt"

	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/vit"
)

func ExampleParseRecipe() {
	r, err := merge.ParseRecipe([]byte(`
stem: b
slices:
  - model: a
    layer_range: [0, 2]
  - model: b
    blocks: [5, 2]
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.Splice())

	_, err = merge.ParseRecipe([]byte("stem: [a, b]\nslices: [{model: a, layer_range: [3, 3]}]\ncolour: red\n"))
	fmt.Println(err)
	// Output:
	// stem b, head b: a[0] a[1] b[5] b[2]
	// 3 problems: line 1: stem must name one model, got a list of 2: a model has one stem; line 2: layer_range [3, 3] is empty: the end is excluded, so [3, 4] means block 3 alone; line 3: unknown field "colour" (a recipe has stem, head and slices)
}

// Random draws Frankenstein models: slot i takes block i of a source drawn
// at random, and the stem and head come from one source.
//
// This is a change detector: the output pins the draw of seed 1. Any
// sources are as correct; what must hold for every seed is that slot i
// holds a block i and the stem and head come from one model.
func ExampleRandom() {
	var models []*vit.Model
	for _, name := range []string{"a", "b", "c"} {
		m, _ := vit.NewModel(name, vit.DefaultConfig())
		models = append(models, m)
	}
	pool, _ := merge.NewPool(models...)
	splices, _ := merge.Random(pool, merge.RandomOptions{Count: 2, Seed: 1})
	for _, s := range splices {
		fmt.Println(s)
	}
	// Output:
	// stem a, head a: a[0] a[1] a[2] c[3] b[4] a[5]
	// stem b, head b: c[0] b[1] a[2] a[3] c[4] c[5]
}

func ExampleAlign() {
	c := vit.DefaultConfig()
	ref, _ := vit.NewModel("ref", c)
	ref.Init(1)
	other, _ := vit.NewModel("other", c)
	other.Init(2) // an independent initialisation: another basis
	aligned, rep, err := merge.Align(ref, other, "other-aligned")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(aligned.Name, "is", rep.Source, "with its units permuted onto", rep.Reference)
	fmt.Println("more similar to the reference:", rep.After > rep.Before)
	// Output:
	// other-aligned is other with its units permuted onto ref
	// more similar to the reference: true
}

func ExampleGreedySoup() {
	var models []*vit.Model
	for i, name := range []string{"a", "b", "c"} {
		m, _ := vit.NewModel(name, vit.DefaultConfig())
		m.Init(uint64(i))
		models = append(models, m)
	}
	// A stand-in for validation accuracy: prefer small head weights.
	score := func(m *vit.Model) float64 {
		s := 0.0
		for _, w := range m.Head.W.Data() {
			s -= float64(w * w)
		}
		return s
	}
	soup, res, _ := merge.GreedySoup("soup", models, score)
	fmt.Println(soup.Name, "averages", len(res.Ingredients), "models; it scores at least as well as the best:", res.Score >= res.Steps[0].Alone)
	// Output:
	// soup averages 3 models; it scores at least as well as the best: true
}

// A recipe is checked against the models it names, and resolves to a
// splice; the model built from it runs the donors' own blocks, nothing
// copied.
func ExampleRecipe_Resolve() {
	a, _ := vit.NewModel("a", vit.DefaultConfig())
	b, _ := vit.NewModel("b", vit.DefaultConfig())
	pool, _ := merge.NewPool(a, b)
	r, _ := merge.ParseRecipe([]byte(`
slices:
  - model: a
    layer_range: [0, 3]
  - model: b
    blocks: [5, 5]
`))
	s, err := r.Resolve(pool)
	if err != nil {
		fmt.Println(err)
		return
	}
	m, _ := s.Build("franken", pool)
	fmt.Println(s)
	fmt.Println(m.Name, "runs", len(m.Blocks), "blocks; slot 3 is b's block 5 itself:", m.Blocks[3] == b.Blocks[5])

	bad, _ := merge.ParseRecipe([]byte("slices:\n  - model: c\n    blocks: [0]\n  - model: b\n    layer_range: [4, 8]\n"))
	_, err = bad.Resolve(pool)
	fmt.Println(err)
	// Output:
	// stem a, head a: a[0] a[1] a[2] b[5] b[5]
	// franken runs 5 blocks; slot 3 is b's block 5 itself: true
	// 5 problems: stem (defaulted): unknown model "c" (known: a, b); head (defaulted): unknown model "c" (known: a, b); line 2 (slot 0): unknown model "c" (known: a, b); line 4 (slot 3): block 6 is out of range: model b has blocks 0..5; line 4 (slot 4): block 7 is out of range: model b has blocks 0..5
}

// A uniform soup averages every parameter of models of one shape.
func ExampleAverage() {
	a, _ := vit.NewModel("a", vit.DefaultConfig())
	b, _ := vit.NewModel("b", vit.DefaultConfig())
	a.Init(1)
	b.Init(2)
	soup, err := merge.Average("soup", a, b)
	if err != nil {
		fmt.Println(err)
		return
	}
	w := func(m *vit.Model) float32 { return m.Blocks[2].Fc1W.Data()[7] }
	fmt.Println(soup.Name, "is the mean of a and b:", w(soup) == (w(a)+w(b))/2)
	// Output:
	// soup is the mean of a and b: true
}

// Search looks for the best plan over every block of a pool. Here the
// score is a stand-in for validation accuracy that prefers the plan
// b[0] a[1] b[2]; the greedy stage finds it.
func ExampleSearch() {
	var models []*vit.Model
	for _, name := range []string{"a", "b"} {
		m, _ := vit.NewModel(name, vit.DefaultConfig())
		models = append(models, m)
	}
	pool, _ := merge.NewPool(models...)
	want := []string{"b[0]", "a[1]", "b[2]"}
	score := func(plans []vit.Plan) []float64 {
		scores := make([]float64, len(plans))
		for i, plan := range plans {
			s := -float64(abs(len(plan) - len(want)))
			for j, bl := range plan {
				if j < len(want) && fmt.Sprintf("%s[%d]", bl.Source, bl.Index) == want[j] {
					s++
				}
			}
			scores[i] = s
		}
		return scores
	}
	res, err := merge.Search(pool, merge.SearchOptions{Stem: "a", Population: 8, Generations: 2, Seed: 1}, score, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("baseline", merge.RefsString(res.Baseline.Blocks), res.Baseline.Score)
	fmt.Println("greedy", merge.RefsString(res.Greedy.Blocks), res.Greedy.Score)
	fmt.Println("best", merge.RefsString(res.Best.Blocks), res.Best.Score)
	// Output:
	// baseline a[0] a[1] a[2] a[3] a[4] a[5] -2
	// greedy b[0] a[1] b[2] 3
	// best b[0] a[1] b[2] 3
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
