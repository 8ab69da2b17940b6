package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// BenchmarkRowKernelsAVX512 times the row kernels with the AVX2 GEMM active
// (8-lane kernels, "old") and with the AVX-512 one (16-lane twins, "new")
// on one goroutine, at the sizes one image of the models gives them: the
// large model (T=50, D=192, MLP 768) and the default one (T=17, D=64, MLP
// 128).
func BenchmarkRowKernelsAVX512(b *testing.B) {
	requireAVX512(b)
	rng := rand.New(rand.NewSource(1))
	type model struct {
		name      string
		t, d, mlp int
	}
	for _, m := range []model{{"large", 50, 192, 768}, {"default", 17, 64, 128}} {
		for _, im := range []*gemmImpl{simdGemm, avx512Gemm} {
			tag := "old-avx2"
			if im == avx512Gemm {
				tag = "new-avx512"
			}
			g := randSlice(rng, m.t*m.mlp)
			gout := make([]float32, len(g))
			b.Run(fmt.Sprintf("%s/gelu-fwd/n=%d/%s", m.name, len(g), tag), func(b *testing.B) {
				withImpl(im, func() {
					for b.Loop() {
						Workers(1).GeluForward(gout, g)
					}
				})
			})
			x, w, bb := randSlice(rng, m.t*m.d), randSlice(rng, m.d), randSlice(rng, m.d)
			out, mean, rstd := make([]float32, len(x)), make([]float32, m.t), make([]float32, m.t)
			b.Run(fmt.Sprintf("%s/ln-fwd/%dx%d/%s", m.name, m.t, m.d, tag), func(b *testing.B) {
				withImpl(im, func() {
					for b.Loop() {
						Workers(1).LayerNormForward(out, mean, rstd, x, w, bb, m.t, m.d, 1e-6)
					}
				})
			})
			y := randSlice(rng, len(x))
			b.Run(fmt.Sprintf("%s/add/n=%d/%s", m.name, len(x), tag), func(b *testing.B) {
				withImpl(im, func() {
					for b.Loop() {
						Add(out, x, y)
					}
				})
			})
		}
	}
}
