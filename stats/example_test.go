package stats_test

import (
	"fmt"

	"github.com/frankenvit/frankenvit/stats"
)

// Three accuracies: their mean, standard deviation and 95% interval.
func ExampleSummarise() {
	s := stats.Summarise([]float64{0.90, 0.92, 0.94})
	fmt.Printf("n=%d mean %.3f std %.3f interval %.3f .. %.3f\n", s.N, s.Mean, s.Std, s.Low, s.High)
	// Output: n=3 mean 0.920 std 0.020 interval 0.870 .. 0.970
}

// The predicted class and the loss of one row of logits.
func ExampleCrossEntropy() {
	row := []float32{2, 0, 1}
	fmt.Printf("class %d, loss for class 0 %.4f, for class 1 %.4f\n", stats.Argmax(row), stats.CrossEntropy(row, 0), stats.CrossEntropy(row, 1))
	// Output: class 0, loss for class 0 0.4076, for class 1 2.4076
}
