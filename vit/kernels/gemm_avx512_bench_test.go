package kernels

import (
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"
)

// peakOnce caches kernels.FMAPeak for 1 and 2 goroutines (on a shared
// machine the 2-goroutine figure is only as good as the other core's
// availability while it is measured; it is logged).
var peakOnce = sync.OnceValue(func() [3]float64 {
	return [3]float64{0, FMAPeak(1, 300*time.Millisecond), FMAPeak(2, 300*time.Millisecond)}
})

// linPairs are the (in, out) pairs of the models' linear layers.
var linPairs = [][2]int{{64, 192}, {64, 64}, {64, 128}, {128, 64}, {192, 576}, {192, 192}, {192, 768}, {768, 192}}

// BenchmarkGemmAVX512 runs the AVX2 and the AVX-512 GEMM side by side on
// the products of the models' linear layers, rows = batch 64 × 17, 50 and
// 197 tokens: forward (A·Wᵀ + bias), dinp (dout·W, accumulated) and the
// weight gradient dW (doutᵀ·inp, transposed A, accumulated); and 2048³.
// It reports GFLOP/s and the share of kernels.FMAPeak on as many
// goroutines ("peak%"). Select rows with -bench 'GemmAVX512/rows=3200'.
func BenchmarkGemmAVX512(b *testing.B) {
	requireAVX512(b)
	rng := rand.New(rand.NewSource(1))
	type op struct {
		name        string
		tA, tB      bool
		m, n, k     int
		lda, ldb    int
		beta        float32
		bias        bool
		aLen, bLen  int
		rowsForName int
	}
	var ops []op
	for _, rows := range []int{1088, 3200, 12608} {
		for _, p := range linPairs {
			in, out := p[0], p[1]
			ops = append(ops,
				op{"fwd", false, true, rows, out, in, in, in, 0, true, rows * in, out * in, rows},
				op{"dinp", false, false, rows, in, out, out, in, 1, false, rows * out, out * in, rows},
				op{"dw", true, false, out, in, rows, out, in, 1, false, rows * out, rows * in, rows})
		}
	}
	ops = append(ops, op{"sq", false, false, 2048, 2048, 2048, 2048, 2048, 0, false, 2048 * 2048, 2048 * 2048, 2048})
	for _, o := range ops {
		a, bb := randSlice(rng, o.aLen), randSlice(rng, o.bLen)
		c := randSlice(rng, o.m*o.n)
		var bias []float32
		if o.bias {
			bias = randSlice(rng, o.n)
		}
		flops := 2 * float64(o.m) * float64(o.n) * float64(o.k)
		b.Run(fmt.Sprintf("rows=%d/%s/%dx%dx%d", o.rowsForName, o.name, o.m, o.n, o.k), func(b *testing.B) {
			for _, im := range []*gemmImpl{simdGemm, avx512Gemm} {
				for _, procs := range []int{1, 2} {
					b.Run(fmt.Sprintf("%s/procs=%d", im.name, procs), func(b *testing.B) {
						peak := peakOnce()[procs]
						b.Logf("FMAPeak(%d) = %.0f GFLOP/s", procs, peak)
						withProcs(procs, func() {
							for b.Loop() {
								gemm(im, AllCores, o.tA, o.tB, o.m, o.n, o.k, 1, a, o.lda, bb, o.ldb, o.beta, c, o.n, bias)
							}
						})
						g := flops * float64(b.N) / b.Elapsed().Seconds() / 1e9
						b.ReportMetric(g, "GFLOP/s")
						b.ReportMetric(100*g/peak, "peak%")
					})
				}
			}
		})
	}
}
