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
