package trainer_test

import (
	"fmt"

	"github.com/frankenvit/frankenvit/trainer"
)

// Evaluation orders as --order takes them; random ones are seeded.
//
// The random:2 line is a change detector: it pins the draw of seed 1. Any
// two permutations are as correct; the other lines are deterministic.
func ExampleParseOrder() {
	for _, s := range []string{"sequential", "reversed", "random:2", "0,2"} {
		o, _ := trainer.ParseOrder(s)
		fmt.Println(o, o.Plans(3, 1))
	}
	// Output:
	// sequential [[0 1 2]]
	// reversed [[2 1 0]]
	// random:2 [[0 1 2] [1 0 2]]
	// 0,2 [[0 2]]
}
