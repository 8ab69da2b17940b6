package sweep_test

import (
	"fmt"

	"github.com/frankenvit/frankenvit/sweep"
)

// Shard 1 of 3 runs units 1, 4, 7, ...
func ExampleParseShard() {
	sh, _ := sweep.ParseShard("1/3")
	for u := 0; u < 8; u++ {
		if sh.Has(u) {
			fmt.Print(u, " ")
		}
	}
	fmt.Println()
	// Output: 1 4 7
}
