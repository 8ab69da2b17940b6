package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// specialFloats are the values every 16-lane twin is checked on: signed
// zeros, ±Inf, NaNs of both signs (and a payload), the largest and smallest
// magnitudes (subnormals), and the GELU masks' edges.
func specialFloats() []float32 {
	return []float32{0, float32(math.Copysign(0, -1)), 1, -1, 4, -4, 5.656854, -5.656854, 13, -13, 13.000001, -13.000001, 12.999999, -12.999999,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), -float32(math.NaN()), math.Float32frombits(0x7fc12345), math.Float32frombits(0xffa00001),
		1e-30, -1e-30, 1e-45, -1e-45, 1.17549435e-38, -1.17549435e-38, math.MaxFloat32, -math.MaxFloat32, 1e30, -1e30, 20, -20, 100, -100}
}

// TestGeluForwardAVX512BitIdentical: GeluForward gives the same bits with
// the AVX-512 kernel as with the AVX2 one, on a fine grid over the whole
// line (the erf clamps at |x/sqrt2| = 4, the x < -13 mask), special values
// and lengths with 16-groups, an 8-group and tails; out of place and in place.
func TestGeluForwardAVX512BitIdentical(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewSource(16))
	xs := specialFloats()
	for i := -40000; i <= 40000; i++ {
		xs = append(xs, float32(i)*0.0004) // -16..16
	}
	for i := 0; i < 20000; i++ {
		xs = append(xs, float32(rng.NormFloat64()*3))
	}
	for i := 0; i < 2000; i++ {
		xs = append(xs, math.Float32frombits(rng.Uint32())) // any bits, NaN payloads included
	}
	rng.Shuffle(len(xs)-40, func(i, j int) { xs[i+40], xs[j+40] = xs[j+40], xs[i+40] })
	for _, n := range []int{len(xs), len(xs) - 5, len(xs) - 8, len(xs) - 13, 50 * 768, 17 * 128, 37, 31, 24, 17, 16, 15, 8, 3, 1} {
		x := xs[len(xs)-n:]
		want, got := make([]float32, n), make([]float32, n)
		withImpl(simdGemm, func() { GeluForward(want, x) })
		withImpl(avx512Gemm, func() { GeluForward(got, x) })
		assertBits(t, fmt.Sprintf("GeluForward n=%d", n), got, want)
		inPlace := clone(x)
		withImpl(avx512Gemm, func() { GeluForward(inPlace, inPlace) })
		assertBits(t, fmt.Sprintf("GeluForward in place n=%d", n), inPlace, want)
	}
}
