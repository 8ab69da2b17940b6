package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// TestColSumsBitIdentical: colSums (the bias gradient) keeps its sums in
// registers across the rows; every column must get the bits of adding the
// rows into dst one at a time with addSIMD (what it did before), tails past
// the last multiple of 8 included, with infinities, huge values and NaNs
// (whose payload depends on the order of VADDPS's operands).
func TestColSumsBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewSource(53))
	special := []float32{float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, -math.MaxFloat32,
		math.Float32frombits(0x7fc12345), math.Float32frombits(0xffa00001), 1e-45}
	for _, rows := range []int{0, 1, 2, 7, 544} {
		for _, cols := range []int{1, 7, 8, 24, 32, 40, 64, 100, 192, 200} {
			for trial := 0; trial < 2; trial++ {
				x, dst0 := randSlice(rng, rows*cols), randSlice(rng, cols)
				if trial == 1 {
					for i := 0; i < 1+len(x)/16 && len(x) > 0; i++ {
						x[rng.Intn(len(x))] = special[rng.Intn(len(special))]
					}
					dst0[rng.Intn(cols)] = special[rng.Intn(len(special))]
				}
				want := append([]float32(nil), dst0...)
				for r := 0; r < rows; r++ {
					addSIMD(want, want, x[r*cols:(r+1)*cols])
				}
				for _, wk := range []Workers{1, AllCores} {
					got := append([]float32(nil), dst0...)
					colSums(wk, got, x, rows, cols)
					assertBits(t, fmt.Sprintf("rows %d cols %d trial %d workers %d", rows, cols, trial, wk), got, want)
				}
			}
		}
	}
}
