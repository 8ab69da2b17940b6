package kernels_test

import (
	"fmt"

	"github.com/frankenvit/frankenvit/vit/kernels"
)

// A linear layer on a batch of two rows: out = inp·wᵀ + bias, with w in the
// PyTorch layout [outDim, inDim].
func ExampleLinearForward() {
	inp := []float32{
		1, 2, 3,
		4, 5, 6,
	}
	w := []float32{
		1, 0, 0, // output 0 picks input 0
		0, 1, 1, // output 1 sums inputs 1 and 2
	}
	bias := []float32{0.5, -1}
	out := make([]float32, 2*2)
	kernels.LinearForward(out, inp, w, bias, 2, 3, 2)
	fmt.Println(out)

	// Backward accumulates: dw += doutᵀ·inp, dbias += column sums of dout.
	dw, dbias := make([]float32, len(w)), make([]float32, len(bias))
	dout := []float32{1, 0, 0, 1}
	kernels.LinearBackward(nil, dw, dbias, dout, inp, w, 2, 3, 2)
	fmt.Println(dw, dbias)
	// Output:
	// [1.5 4 4.5 10]
	// [1 2 3 4 5 6] [1 1]
}
