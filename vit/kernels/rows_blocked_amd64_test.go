//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"math/rand"
	"testing"
	"time"
)

// rowsShape is one rowsGemm call: sizes and A's strides (trans: Aᵀ stored
// row-major, as the attention backward reads P and dS).
type rowsShape struct {
	m, n, k int
	trans   bool
}

// vitTiRowsShapes are ViT-Ti's attention backward products (T=197,
// tp=200, hd=64) and the large model's (T=50, tp=56).
var vitTiRowsShapes = []rowsShape{
	{197, 200, 64, false}, {197, 64, 197, true}, {197, 64, 197, false},
	{50, 56, 64, false}, {50, 64, 50, true}, {50, 64, 50, false},
}

func (s rowsShape) strides() (ars, acs int) {
	if s.trans {
		return 1, s.m + 3
	}
	return s.k + 1, 1
}

// TestRowsGemmBlockedBitIdentical: the GEMM micro-kernels (rowsGemm6: 6×16
// and 6×8 with AVX2, 12×32 and 6×32 too with AVX-512) give the same bits as
// the 4-row kernel (rowsGemm4) on every shape, so routing a product from
// one to the other (rowsGemmBlocked) never changes a result. Random shapes
// around the kernels' edges and ViT-Ti's, both A layouts, with and without
// accumulation, alpha 1 and not, special values in A, B and C. The one
// difference: where the product and C are both NaN, the 4-row kernel's add
// returns the product's NaN and the micro-kernels' FMA (C*1 + product) C's,
// so there only NaN-ness is compared.
func TestRowsGemmBlockedBitIdentical(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2+FMA")
	}
	rng := rand.New(rand.NewSource(21))
	shapes := append([]rowsShape(nil), vitTiRowsShapes...)
	for range 300 {
		shapes = append(shapes, rowsShape{1 + rng.Intn(230), 8 * (1 + rng.Intn(30)), 1 + rng.Intn(260), rng.Intn(2) == 0})
	}
	sp := specialFloats()
	gemms := []*gemmImpl{simdGemm}
	if avx512Gemm != nil && hasAVX512() {
		gemms = append(gemms, avx512Gemm)
	}
	for si, s := range shapes {
		ars, acs := s.strides()
		a := randSlice(rng, (s.m-1)*ars+(s.k-1)*acs+1)
		ldb, ldc := s.n+3, s.n+5
		b := randSlice(rng, (s.k-1)*ldb+s.n)
		c0 := randSlice(rng, (s.m-1)*ldc+s.n+5)
		if si%7 == 6 {
			for _, x := range [][]float32{a, b, c0} {
				for range 1 + len(x)/500 {
					x[rng.Intn(len(x))] = sp[rng.Intn(len(sp))]
				}
			}
		}
		for _, acc := range []bool{false, true} {
			for _, alpha := range []float32{1, 0.125, -0.3} {
				for _, im := range gemms {
					want, got := clone(c0), clone(c0)
					withImpl(im, func() {
						rowsGemm4(s.m, s.n, s.k, a, ars, acs, b, ldb, want, ldc, alpha, acc, nil)
						rowsGemm6(s.m, s.n, s.k, a, ars, acs, b, ldb, got, ldc, alpha, acc, nil)
					})
					assertBitsOrNaNs(t, fmt.Sprintf("%s m=%d n=%d k=%d trans=%v acc=%v alpha=%g", im.name, s.m, s.n, s.k, s.trans, acc, alpha), got, want)
				}
			}
		}
	}
}

// assertBitsOrNaNs is assertBits that lets two NaNs differ in payload.
func assertBitsOrNaNs(t *testing.T, name string, got, want []float32) {
	t.Helper()
	for i := range got {
		if got[i] != got[i] && want[i] != want[i] {
			got[i] = want[i]
		}
	}
	assertBits(t, name, got, want)
}

// BenchmarkRowsGemmKernels times rowsGemm4 ("4row") and rowsGemm6
// ("blocked") call by call on one goroutine, alternating, with the active
// GEMM (AVX-512 where the CPU has it); ns/op is meaningless, the medians are
// reported as 4row-us and blocked-us.
func BenchmarkRowsGemmKernels(b *testing.B) {
	if !hasSIMD() {
		b.Skip("no AVX2+FMA")
	}
	rng := rand.New(rand.NewSource(22))
	shapes := append([]rowsShape{{24, 64, 32, false}, {36, 64, 64, false}, {24, 128, 64, false}, {64, 64, 100, true}, {120, 64, 64, false}}, vitTiRowsShapes...)
	for _, s := range shapes {
		ars, acs := s.strides()
		a := randSlice(rng, (s.m-1)*ars+(s.k-1)*acs+1)
		ldb, ldc := s.n, s.n
		bm := randSlice(rng, (s.k-1)*ldb+s.n)
		c := randSlice(rng, (s.m-1)*ldc+s.n)
		tmp := make([]float32, 6*(s.k+s.n))
		b.Run(fmt.Sprintf("m=%d_n=%d_k=%d_trans=%v", s.m, s.n, s.k, s.trans), func(b *testing.B) {
			var t4, t6 []float64
			for b.Loop() {
				t0 := time.Now()
				for range 20 {
					rowsGemm4(s.m, s.n, s.k, a, ars, acs, bm, ldb, c, ldc, 1, true, tmp)
				}
				t1 := time.Now()
				for range 20 {
					rowsGemm6(s.m, s.n, s.k, a, ars, acs, bm, ldb, c, ldc, 1, true, tmp)
				}
				t4 = append(t4, float64(t1.Sub(t0).Nanoseconds())/20e3)
				t6 = append(t6, float64(time.Since(t1).Nanoseconds())/20e3)
			}
			b.ReportMetric(median(t4), "4row-us")
			b.ReportMetric(median(t6), "blocked-us")
		})
	}
}
