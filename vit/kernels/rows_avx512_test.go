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

// TestAddAVX512BitIdentical: Add and AddInPlace give the same bits with the
// 16-lane kernel as with the 8-lane one (lengths with 16-groups, an 8-group
// and a tail; special values on both sides).
func TestAddAVX512BitIdentical(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewSource(17))
	sp := specialFloats()
	for _, n := range []int{1, 7, 8, 15, 16, 17, 24, 31, 63, 64, 65, 72, 200, 17 * 64, 50 * 192, 4099} {
		a, b := randSlice(rng, n), randSlice(rng, n)
		for i := 0; i < n; i += 3 {
			a[i] = sp[rng.Intn(len(sp))]
			if rng.Intn(2) == 0 {
				b[i] = sp[rng.Intn(len(sp))]
			}
		}
		want, got := make([]float32, n), make([]float32, n)
		withImpl(simdGemm, func() { Add(want, a, b) })
		withImpl(avx512Gemm, func() { Add(got, a, b) })
		assertBits(t, fmt.Sprintf("Add n=%d", n), got, want)
		got = clone(a)
		withImpl(avx512Gemm, func() { AddInPlace(got, b) })
		assertBits(t, fmt.Sprintf("AddInPlace n=%d", n), got, want)
	}
}

// TestLayerNormForwardAVX512BitIdentical: LayerNormForward gives the same
// out, mean and rstd bits with the 4-row AVX-512 kernel as with
// lnForwardAVX2, for row counts around multiples of 4, the models' widths
// and others (dim % 8 == 0), rows of special values (NaN, ±Inf, huge values
// whose squares overflow, tiny and subnormal values, constant rows) and
// weights and biases with specials, sequential and on several goroutines.
func TestLayerNormForwardAVX512BitIdentical(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewSource(18))
	sp := specialFloats()
	for _, dim := range []int{8, 16, 24, 40, 64, 128, 192, 768} {
		for _, rows := range []int{1, 2, 3, 4, 5, 7, 8, 9, 13, 17, 50, 103, 400} {
			inp := randSlice(rng, rows*dim)
			for r := 0; r < rows; r++ {
				row := inp[r*dim : (r+1)*dim]
				switch rng.Intn(8) {
				case 0: // one special value
					row[rng.Intn(dim)] = sp[rng.Intn(len(sp))]
				case 1: // huge
					for i := range row {
						row[i] *= 1e19
					}
				case 2: // tiny, subnormal
					for i := range row {
						row[i] *= 1e-40
					}
				case 3: // constant: variance 0
					for i := range row {
						row[i] = 3.25
					}
				case 4: // large offset: cancellation in x-mean
					for i := range row {
						row[i] += 1e4
					}
				}
			}
			w, b := randSlice(rng, dim), randSlice(rng, dim)
			if rng.Intn(3) == 0 {
				w[rng.Intn(dim)] = sp[rng.Intn(len(sp))]
				b[rng.Intn(dim)] = sp[rng.Intn(len(sp))]
			}
			for _, eps := range []float32{1e-5, 1e-6} {
				type res struct{ out, mean, rstd []float32 }
				run := func(im *gemmImpl, wk Workers) (r res) {
					r.out, r.mean, r.rstd = make([]float32, rows*dim), make([]float32, rows), make([]float32, rows)
					withImpl(im, func() { wk.LayerNormForward(r.out, r.mean, r.rstd, inp, w, b, rows, dim, eps) })
					return r
				}
				want := run(simdGemm, 1)
				for _, wk := range []Workers{1, 3} {
					got := run(avx512Gemm, wk)
					name := fmt.Sprintf("dim=%d rows=%d eps=%g workers=%d", dim, rows, eps, wk)
					assertBits(t, name+" mean", got.mean, want.mean)
					assertBits(t, name+" rstd", got.rstd, want.rstd)
					assertBits(t, name+" out", got.out, want.out)
				}
			}
		}
	}
}
