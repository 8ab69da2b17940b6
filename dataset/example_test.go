package dataset_test

import (
	"fmt"

	"github.com/frankenvit/frankenvit/dataset"
)

// SplitValidation carves a validation split off a training split; both
// keep the images' original order.
//
// This is a change detector: which 3 of the 10 images go to validation (and
// so their mean) pins the permutation of seed 1. Any 3 are as correct;
// what must hold for every seed is the 7/3 split and the kept order.
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
