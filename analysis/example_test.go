package analysis_test

import (
	"fmt"

	"github.com/frankenvit/frankenvit/analysis"
	"gonum.org/v1/gonum/mat"
)

// Linear CKA ignores rotations and isotropic scaling of a representation,
// and sees through to how much of one representation another keeps.
func ExampleLinearCKA() {
	x := mat.NewDense(4, 2, []float64{
		1, 0,
		0, 2,
		-1, 0,
		0, -2,
	})
	rotated := mat.NewDense(4, 2, nil)
	rotated.Mul(x, mat.NewDense(2, 2, []float64{0, 1, -1, 0})) // 90 degrees
	rotated.Scale(3, rotated)
	firstOnly := mat.DenseCopyOf(x.Slice(0, 4, 0, 1))
	fmt.Printf("rotated and scaled: %.3f\n", analysis.LinearCKA(x, rotated))
	fmt.Printf("first feature only: %.3f\n", analysis.LinearCKA(x, firstOnly))
	// Output:
	// rotated and scaled: 1.000
	// first feature only: 0.243
}

// Every block visits every slot equally often over depth orders.
//
// This is a change detector: the output pins the draw of seed 1. Any rows
// of a Latin square are as correct; what must hold for every seed is that
// each block takes each slot once over the 3 orders.
func ExampleBalancedOrders() {
	for _, order := range analysis.BalancedOrders(3, 3, 1) {
		fmt.Println(order)
	}
	// Output:
	// [1 0 2]
	// [0 2 1]
	// [2 1 0]
}
