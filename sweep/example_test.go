package sweep_test

import (
	"fmt"

	"github.com/frankenvit/frankenvit/sweep"
)

// Three accuracies: their mean, standard deviation and 95% interval.
func ExampleSummarise() {
	s := sweep.Summarise([]float64{0.90, 0.92, 0.94})
	fmt.Printf("n=%d mean %.3f std %.3f interval %.3f .. %.3f\n", s.N, s.Mean, s.Std, s.Low, s.High)
	// Output: n=3 mean 0.920 std 0.020 interval 0.870 .. 0.970
}

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
