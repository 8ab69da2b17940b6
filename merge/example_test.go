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
