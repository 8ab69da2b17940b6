//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// avx512Tiles are the AVX-512 register tiles _asmgen writes, as GEMM
// implementations (the first is avx512Gemm's). They were measured against
// each other (BenchmarkAVX512Tiles) to pick the default; the others stay
// tested so that they can be measured again on another CPU.
func avx512Tiles() []*gemmImpl {
	return []*gemmImpl{
		avx512Gemm,
		{name: "avx512-14x32", mr: 14, nr: 32, kc: 256, mc: 98, nc: 256, direct: true, directBLd: 1024, parMinWork: 16 << 20, kern: checkedKernel(14, 32, gemmKernel14x32AVX512)},
		{name: "avx512-8x48", mr: 8, nr: 48, kc: 256, mc: 96, nc: 288, direct: true, directBLd: 1024, parMinWork: 16 << 20, kern: checkedKernel(8, 48, gemmKernel8x48AVX512)},
		{name: "avx512-6x32", mr: 6, nr: 32, kc: 256, mc: 72, nc: 256, direct: true, directBLd: 1024, parMinWork: 16 << 20, kern: checkedKernel(6, 32, gemmKernel6x32AVX512)},
	}
}

// microRef is the micro-kernel contract, element by element, with the
// rounding the kernels use: acc = fma(A(i,p), B(p,j), acc) for p = 0, 1,
// ...; then alpha*acc, + bias[j], + beta*C fused.
func microRef(mr, nr, kc int, a []float32, ars, acs, ats int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, bias []float32, tiles int) {
	for t := 0; t < tiles; t++ {
		for i := 0; i < mr; i++ {
			for j := 0; j < nr; j++ {
				var acc float32
				for p := 0; p < kc; p++ {
					acc = float32(math.FMA(float64(a[t*ats+i*ars+p*acs]), float64(b[p*bs+j]), float64(acc)))
				}
				v := alpha * acc
				if bias != nil {
					v += bias[j]
				}
				ci := (t*mr+i)*ldc + j
				if beta != 0 {
					v = float32(math.FMA(float64(beta), float64(c[ci]), float64(v)))
				}
				c[ci] = v
			}
		}
	}
}

// TestMicroKernelsContract checks every SIMD micro-kernel (AVX2 6×16 and the
// AVX-512 tiles) bit for bit against microRef, through packed, row-major
// and transposed A strides, with several stacked tiles, alpha, beta (and C
// full of NaN when beta is ±0, which must not be read) and bias.
func TestMicroKernelsContract(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2+FMA on this CPU: no SIMD micro-kernel to test")
	}
	ims := []*gemmImpl{simdGemm}
	if hasAVX512() {
		ims = append(ims, avx512Tiles()...)
	} else {
		t.Log("no AVX-512F on this CPU: only the AVX2 micro-kernel is tested")
	}
	rng := rand.New(rand.NewSource(21))
	for _, im := range ims {
		mr, nr := im.mr, im.nr
		for _, kc := range []int{0, 1, 2, 7, 64, 256} {
			for _, tiles := range []int{1, 3} {
				for layout := 0; layout < 3; layout++ {
					var ars, acs, ats int
					lda := kc + 5
					switch layout {
					case 0: // packed
						ars, acs, ats = 1, mr, mr*kc
					case 1: // row-major A, lda apart
						ars, acs, ats = lda, 1, mr*lda
					case 2: // transposed A: rows of op(A) are columns
						lda = tiles*mr + 3
						ars, acs, ats = 1, lda, mr
					}
					alen := max(1, (tiles-1)*ats+(mr-1)*ars+max(kc-1, 0)*acs+1)
					a := randSlice(rng, alen)
					bs := nr + 3
					b := randSlice(rng, max(1, max(kc-1, 0)*bs+nr))
					ldc := nr + 2
					for _, sc := range [][2]float32{{1, 0}, {-0.7, 0.3}, {1, 1}, {2, float32(math.Copysign(0, -1))}} {
						for _, withBias := range []bool{false, true} {
							var bias []float32
							if withBias {
								bias = randSlice(rng, nr)
							}
							c0 := randSlice(rng, tiles*mr*ldc)
							if sc[1] == 0 {
								for i := range c0 {
									c0[i] = float32(math.NaN())
								}
							}
							want, got := clone(c0), clone(c0)
							microRef(mr, nr, kc, a, ars, acs, ats, b, bs, want, ldc, sc[0], sc[1], bias, tiles)
							im.kern(kc, a, ars, acs, ats, b, bs, got, ldc, sc[0], sc[1], bias, tiles)
							// Columns beyond nr in each row must be untouched.
							assertBits(t, fmt.Sprintf("%s kc=%d tiles=%d layout=%d alpha=%g beta=%g bias=%v", im.name, kc, tiles, layout, sc[0], sc[1], withBias), got, want)
						}
					}
				}
			}
		}
	}
}

// TestAVX512TilesBitIdentical runs the other AVX-512 tiles through the GEMM
// driver against the AVX2 GEMM, bit for bit.
func TestAVX512TilesBitIdentical(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewSource(22))
	for _, im := range avx512Tiles()[1:] {
		for it := 0; it < 60; it++ {
			g := gemmBitCase{rng.Intn(2) == 1, rng.Intn(2) == 1, 1 + rng.Intn(130), 1 + rng.Intn(130), 1 + rng.Intn(600), 1, 0, rng.Intn(3) == 0, rng.Intn(3)}
			if rng.Intn(2) == 0 {
				g.alpha, g.beta = -0.7, 0.3
			}
			runBits(t, rng, simdGemm, im, g, []Workers{1, 2})
		}
	}
}

// BenchmarkAVX512Tiles compares the AVX-512 register tiles (and the AVX2
// GEMM) on a few model shapes and 2048³, on 1 and 2 goroutines.
func BenchmarkAVX512Tiles(b *testing.B) {
	requireAVX512(b)
	rng := rand.New(rand.NewSource(1))
	ims := append([]*gemmImpl{simdGemm}, avx512Tiles()...)
	for _, s := range []struct {
		name           string
		tA, tB         bool
		m, n, k        int
		lda, ldb, beta int
	}{
		{"fwd", false, true, 12608, 192, 64, 64, 64, 0},
		{"fwd", false, true, 3200, 576, 192, 192, 192, 0},
		{"fwd", false, true, 3200, 192, 768, 768, 768, 0},
		{"dinp", false, false, 3200, 192, 576, 576, 192, 1},
		{"dw", true, false, 576, 192, 3200, 576, 192, 1},
		{"dw", true, false, 64, 64, 12608, 64, 64, 1},
		{"sq", false, false, 2048, 2048, 2048, 2048, 2048, 0},
	} {
		a := randSlice(rng, max(s.m, s.k)*s.lda)
		bb := randSlice(rng, max(s.n, s.k)*s.ldb)
		c := randSlice(rng, s.m*s.n)
		flops := 2 * float64(s.m) * float64(s.n) * float64(s.k)
		b.Run(fmt.Sprintf("%s/%dx%dx%d", s.name, s.m, s.n, s.k), func(b *testing.B) {
			for _, im := range ims {
				for _, procs := range []int{1, 2} {
					b.Run(fmt.Sprintf("%s/procs=%d", im.name, procs), func(b *testing.B) {
						withProcs(procs, func() {
							for b.Loop() {
								gemm(im, AllCores, s.tA, s.tB, s.m, s.n, s.k, 1, a, s.lda, bb, s.ldb, float32(s.beta), c, s.n, nil)
							}
						})
						b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
					})
				}
			}
		})
	}
}
