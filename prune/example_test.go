package prune_test

import (
	"fmt"

	"github.com/frankenvit/frankenvit/prune"
)

// LayerDrop's every-other rule on a 6-block model.
func ExampleEveryOtherRemoved() {
	for k := 1; k <= 3; k++ {
		fmt.Println(k, prune.EveryOtherRemoved(6, k))
	}
	// Output:
	// 1 [5]
	// 2 [2 5]
	// 3 [1 3 5]
}

// ShortGPT removes the blocks of lowest influence first.
func ExampleInfluenceOrder() {
	fmt.Println(prune.InfluenceOrder([]float64{0.4, 0.05, 0.2, 0.05}))
	// Output: [1 3 2 0]
}
