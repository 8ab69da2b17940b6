package kernels

import (
	"math"
	"math/rand"
	"os"
	"runtime"
	"testing"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	s := make([]float32, n)
	for i := range s {
		s[i] = float32(rng.NormFloat64())
	}
	return s
}

func clone(s []float32) []float32 { return append([]float32(nil), s...) }

// closeTo reports |got-want| <= atol + rtol*|want|.
func closeTo(got, want float64, rtol, atol float64) bool {
	if math.IsNaN(got) || math.IsNaN(want) {
		return false
	}
	return math.Abs(got-want) <= atol+rtol*math.Abs(want)
}

func assertClose(t *testing.T, name string, got []float32, want []float64, rtol, atol float64) {
	t.Helper()
	if len(got) < len(want) {
		t.Fatalf("%s: len %d < %d", name, len(got), len(want))
	}
	bad := 0
	for i, w := range want {
		if !closeTo(float64(got[i]), w, rtol, atol) {
			if bad < 5 {
				t.Errorf("%s[%d] = %g, want %g", name, i, got[i], w)
			}
			bad++
		}
	}
	if bad > 0 {
		t.Fatalf("%s: %d of %d elements differ", name, bad, len(want))
	}
}

func assertClose32(t *testing.T, name string, got, want []float32, rtol, atol float64) {
	t.Helper()
	w := make([]float64, len(want))
	for i, v := range want {
		w[i] = float64(v)
	}
	assertClose(t, name, got, w, rtol, atol)
}

func assertBits(t *testing.T, name string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: len %d != %d", name, len(got), len(want))
	}
	for i := range got {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s[%d]: %g (%#x) != %g (%#x): not bit-identical", name, i, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
		}
	}
}

// withProcs runs fn with GOMAXPROCS set to n.
func withProcs(n int, fn func()) {
	old := runtime.GOMAXPROCS(n)
	defer runtime.GOMAXPROCS(old)
	fn()
}

// withImpl runs fn with the given GEMM implementation active.
func withImpl(im *gemmImpl, fn func()) {
	old, oldSIMD := activeGemm, useSIMD
	activeGemm, useSIMD = im, im != genericGemm
	defer func() { activeGemm, useSIMD = old, oldSIMD }()
	fn()
}

// impls lists the implementations to test: pure Go, and every SIMD one the
// machine runs (AVX2, and AVX-512 when the CPU has it).
func impls() []*gemmImpl {
	out := []*gemmImpl{genericGemm}
	if hasSIMD() && simdGemm != genericGemm {
		out = append(out, simdGemm)
	}
	if hasAVX512() && avx512Gemm != nil {
		out = append(out, avx512Gemm)
	}
	return out
}

func forEachImpl(t *testing.T, fn func(t *testing.T)) {
	for _, im := range impls() {
		t.Run(im.name, func(t *testing.T) { withImpl(im, func() { fn(t) }) })
	}
}

// gradCheck compares analytic gradients with central differences of the
// scalar loss (computed in float64 by loss) with respect to x, at up to
// nprobe random coordinates.
func gradCheck(t *testing.T, name string, rng *rand.Rand, x []float32, analytic []float32, loss func() float64, h float64, nprobe int) {
	t.Helper()
	idx := rng.Perm(len(x))
	if len(idx) > nprobe {
		idx = idx[:nprobe]
	}
	for _, i := range idx {
		old := x[i]
		x[i] = old + float32(h)
		lp := loss()
		x[i] = old - float32(h)
		lm := loss()
		x[i] = old
		hh := (float64(old+float32(h)) - float64(old-float32(h)))
		num := (lp - lm) / hh
		if !closeTo(float64(analytic[i]), num, 2e-2, 2e-3) {
			t.Errorf("%s: grad[%d] analytic %g, numeric %g", name, i, analytic[i], num)
		}
	}
}

func sumProd(out []float32, g []float32) float64 {
	var s float64
	for i, v := range out {
		s += float64(v) * float64(g[i])
	}
	return s
}

func TestParallelCoversOnce(t *testing.T) {
	for _, procs := range []int{1, 2, 3, 8} {
		withProcs(procs, func() {
			for _, n := range []int{0, 1, 2, 7, 100, 1001} {
				for _, grain := range []int{0, 1, 3, 64} {
					hits := make([]int32, n)
					Parallel(n, grain, func(lo, hi int) {
						if lo > hi {
							panic("lo > hi")
						}
						for i := lo; i < hi; i++ {
							hits[i]++
						}
					})
					for i, h := range hits {
						if h != 1 {
							t.Fatalf("procs=%d n=%d grain=%d: index %d hit %d times", procs, n, grain, i, h)
						}
					}
					// parallelChunks: chunk boundaries fixed by n and the chunk size.
					hits2 := make([]int32, n)
					parallelChunks(AllCores, n, grain, func(lo, hi int) {
						if lo%max(grain, 1) != 0 || (hi != n && hi-lo != max(grain, 1)) {
							panic("unexpected chunk")
						}
						for i := lo; i < hi; i++ {
							hits2[i]++
						}
					})
					for i, h := range hits2 {
						if h != 1 {
							t.Fatalf("parallelChunks procs=%d n=%d chunk=%d: index %d hit %d times", procs, n, grain, i, h)
						}
					}
				}
			}
		})
	}
}

func TestImplementation(t *testing.T) {
	name := Implementation()
	if UsingSIMD() != (name != "purego") {
		t.Fatalf("UsingSIMD()=%v but Implementation()=%q", UsingSIMD(), name)
	}
	want := "purego"
	switch {
	case os.Getenv("FRANKENVIT_PUREGO") == "1" || !hasSIMD():
	case hasAVX512() && avx512Gemm != nil && os.Getenv("FRANKENVIT_NOAVX512") != "1":
		want = avx512Gemm.name
	default:
		want = simdGemm.name
	}
	if name != want {
		t.Fatalf("Implementation()=%q, want %q on this CPU and environment", name, want)
	}
	t.Logf("implementation: %s", name)
}
