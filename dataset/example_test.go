package dataset_test

import (
	"fmt"

	"github.com/frankenvit/frankenvit/dataset"
)

func ExampleSplitValidation() {
	// Ten 1x1 gray images whose pixel and label are their index.
	train := &dataset.Split{N: 10, C: 1, H: 1, W: 1,
		Pixels: []uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9},
		Labels: []uint8{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}}
	rest, val, err := dataset.SplitValidation(train, 0.3, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("train:", rest.N, rest.Labels)
	fmt.Println("val:  ", val.N, val.Labels)
	norm := dataset.ComputeNormalization(val)
	fmt.Printf("val mean %.4f\n", norm.Mean[0])
	// Output:
	// train: 7 [1 2 3 4 6 8 9]
	// val:   3 [0 5 7]
	// val mean 0.0157
}
