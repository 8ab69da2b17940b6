package vit_test

import (
	"fmt"

	"github.com/frankenvit/frankenvit/vit"
)

// A plan can run a model's blocks in any order, leave some out, or borrow
// blocks of another model of the same width.
func ExampleRunner_Logits() {
	cfg := vit.DefaultConfig()
	a, _ := vit.NewModel("a", cfg)
	b, _ := vit.NewModel("b", cfg)
	a.Init(1)
	b.Init(2)
	images := make([]float32, 2*cfg.ImageSize()) // two normalised 28x28 images

	reversed := a.Reversed()
	frankenstein := vit.Plan{a.Blocks[0], b.Blocks[1], a.Blocks[5]}
	r := vit.NewRunner(a)
	for _, plan := range []vit.Plan{reversed, frankenstein} {
		if err := a.Check(plan); err != nil {
			fmt.Println(err)
			return
		}
		logits := r.Logits(images, 2, plan)
		fmt.Printf("%s -> %d logits\n", plan, len(logits))
	}
	// Output:
	// a[5] a[4] a[3] a[2] a[1] a[0] -> 20 logits
	// a[0] b[1] a[5] -> 20 logits
}
