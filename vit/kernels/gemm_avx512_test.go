package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// requireAVX512 skips the test, saying so, where the AVX-512 GEMM cannot
// run (no AVX-512F on this CPU, or a non-amd64 or purego build).
func requireAVX512(t testing.TB) {
	t.Helper()
	if avx512Gemm == nil || !hasAVX512() {
		t.Skip("AVX-512F (with AVX2+FMA) not available on this CPU/build: the AVX-512 GEMM is not tested here")
	}
}

// gemmBitCase is one GEMM call compared bit for bit across implementations.
type gemmBitCase struct {
	tA, tB      bool
	m, n, k     int
	alpha, beta float32
	bias        bool
	pad         int
}

func (g gemmBitCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,alpha=%g,beta=%g,bias=%v,pad=%d", g.tA, g.tB, g.m, g.n, g.k, g.alpha, g.beta, g.bias, g.pad)
}

// runBits runs g through impl want (one goroutine) and impl got (with each of
// the worker counts) on the same inputs and asserts equal bits.
func runBits(t *testing.T, rng *rand.Rand, want, got *gemmImpl, g gemmBitCase, workers []Workers) {
	t.Helper()
	ar, ac := g.m, g.k
	if g.tA {
		ar, ac = g.k, g.m
	}
	br, bc := g.k, g.n
	if g.tB {
		br, bc = g.n, g.k
	}
	lda, ldb, ldc := ac+g.pad, bc+g.pad, g.n+g.pad
	a := randSlice(rng, (ar-1)*lda+ac)
	b := randSlice(rng, (br-1)*ldb+bc)
	c0 := randSlice(rng, g.m*ldc)
	if g.beta == 0 || g.bias {
		for i := range c0 {
			c0[i] = float32(math.NaN()) // must not be read
		}
	}
	var bias []float32
	if g.bias {
		bias = randSlice(rng, g.n)
	}
	ref := clone(c0)
	gemm(want, 1, g.tA, g.tB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, ref, ldc, bias)
	// Split even small products across the workers (parMinWork 0), so that
	// the worker counts are exercised on every shape.
	split := *got
	split.parMinWork = 0
	for _, w := range workers {
		c := clone(c0)
		gemm(&split, w, g.tA, g.tB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, c, ldc, bias)
		for i := range c {
			if math.Float32bits(c[i]) != math.Float32bits(ref[i]) {
				t.Fatalf("%s vs %s, %v, workers=%d: c[%d] (row %d col %d) = %g (%#x), want %g (%#x)",
					got.name, want.name, g, w, i, i/ldc, i%ldc, c[i], math.Float32bits(c[i]), ref[i], math.Float32bits(ref[i]))
			}
		}
	}
}

// TestGemmAVX512BitIdenticalToAVX2 asserts that the AVX-512 GEMM gives the
// AVX2 GEMM's results bit for bit: edges in m and n (sizes around both
// tiles), k below, at and beyond the kc block, all four transposes, alpha,
// beta (including ones whose product with C rounds), bias, padded strides,
// and 1, 2 and 3 workers.
func TestGemmAVX512BitIdenticalToAVX2(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewSource(11))
	ws := []Workers{1, 2, 3}
	sizes := []int{1, 5, 6, 11, 12, 13, 16, 17, 31, 32, 33, 47, 64, 97}
	ks := []int{1, 3, 64, 255, 256, 257, 700}
	scal := [][2]float32{{1, 0}, {1, 1}, {-0.7, 0.3}, {0.5, -1.25}, {1.3, 0}}
	n := 0
	for _, tA := range []bool{false, true} {
		for _, tB := range []bool{false, true} {
			for _, m := range sizes {
				for _, nn := range sizes {
					k := ks[rng.Intn(len(ks))]
					s := scal[rng.Intn(len(scal))]
					g := gemmBitCase{tA, tB, m, nn, k, s[0], s[1], rng.Intn(4) == 0, rng.Intn(3) * 3}
					runBits(t, rng, simdGemm, avx512Gemm, g, ws)
					n++
				}
			}
		}
	}
	// The model's shapes (forward A·Bᵀ + bias, dinp A·B, dW Aᵀ·B with beta 1)
	// and a few large odd ones.
	for _, s := range []linShape{{1088, 64, 192}, {1088, 128, 64}, {3200, 192, 576}, {400, 768, 192}} {
		runBits(t, rng, simdGemm, avx512Gemm, gemmBitCase{false, true, s.rows, s.out, s.in, 1, 0, true, 0}, ws)
		runBits(t, rng, simdGemm, avx512Gemm, gemmBitCase{false, false, s.rows, s.in, s.out, 1, 1, false, 0}, ws)
		runBits(t, rng, simdGemm, avx512Gemm, gemmBitCase{true, false, s.out, s.in, s.rows, 1, 1, false, 0}, ws)
	}
	for _, g := range []gemmBitCase{
		{false, true, 301, 129, 300, 0.7, 0, false, 5},
		{true, true, 77, 131, 517, -1, 0.5, false, 2},
		{false, false, 130, 70, 600, 1, 1, false, 1},
		{true, false, 250, 333, 1030, 0.9, 0.1, false, 3},
		{false, false, 40, 1100, 300, 1, 0, true, 0},     // B packed by both (k*n large, rows far apart)
		{true, false, 64, 64, 5000, 1, 1, false, 0},      // B read in place by AVX-512, packed by AVX2
		{false, false, 50, 200, 1400, -1, 0.3, false, 7}, // likewise, with padding
	} {
		runBits(t, rng, simdGemm, avx512Gemm, g, ws)
	}
	t.Logf("%d random shapes and 19 large ones bit-identical", n)
}

// TestLinearAVX512BitIdenticalToAVX2 runs the public linear layers through
// both implementations.
func TestLinearAVX512BitIdenticalToAVX2(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewSource(12))
	for _, s := range []linShape{{1088, 64, 192}, {1088, 64, 64}, {1088, 64, 128}, {1088, 128, 64}, {200, 192, 768}, {200, 768, 192}, {37, 13, 45}} {
		inp, w, bias := randSlice(rng, s.rows*s.in), randSlice(rng, s.out*s.in), randSlice(rng, s.out)
		dout := randSlice(rng, s.rows*s.out)
		type res struct{ out, dinp, dw, db []float32 }
		run := func(im *gemmImpl) res {
			var r res
			withImpl(im, func() {
				r.out = make([]float32, s.rows*s.out)
				LinearForward(r.out, inp, w, bias, s.rows, s.in, s.out)
				r.dinp, r.dw, r.db = randSlice(rand.New(rand.NewSource(1)), s.rows*s.in), make([]float32, s.out*s.in), make([]float32, s.out)
				LinearBackward(r.dinp, r.dw, r.db, dout, inp, w, s.rows, s.in, s.out)
			})
			return r
		}
		want, got := run(simdGemm), run(avx512Gemm)
		name := fmt.Sprintf("%dx%dx%d", s.rows, s.in, s.out)
		assertBits(t, name+" out", got.out, want.out)
		assertBits(t, name+" dinp", got.dinp, want.dinp)
		assertBits(t, name+" dw", got.dw, want.dw)
		assertBits(t, name+" dbias", got.db, want.db)
	}
}

// FuzzGemmAVX512BitIdentical fuzzes shapes and scalars for the bit-identity.
func FuzzGemmAVX512BitIdentical(f *testing.F) {
	f.Add(uint8(13), uint8(33), uint16(257), uint8(0), int64(1))
	f.Add(uint8(25), uint8(64), uint16(64), uint8(7), int64(2))
	f.Fuzz(func(t *testing.T, m, n uint8, k uint16, flags uint8, seed int64) {
		requireAVX512(t)
		rng := rand.New(rand.NewSource(seed))
		g := gemmBitCase{flags&1 != 0, flags&2 != 0, int(m%100) + 1, int(n%100) + 1, int(k%600) + 1, 1, 0, flags&4 != 0, int(flags>>5) % 4}
		if flags&8 != 0 {
			g.alpha, g.beta = -0.3, 0.7
		}
		runBits(t, rng, simdGemm, avx512Gemm, g, []Workers{1, 2})
	})
}

// TestRowsGemmAVX512BitIdentical: the attention's rowsGemm gives the same
// bits with the AVX-512 kernels as with the AVX2 ones.
func TestRowsGemmAVX512BitIdentical(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewSource(13))
	for _, m := range []int{1, 5, 6, 12, 18, 24, 30, 36, 50, 197} {
		for _, n := range []int{8, 16, 24, 32, 40, 56, 64, 72} {
			for _, k := range []int{1, 16, 32, 50, 64} {
				for _, trans := range []bool{false, true} {
					for _, acc := range []bool{false, true} {
						ars, acs := k+1, 1
						if trans {
							ars, acs = 1, m+2
						}
						a := randSlice(rng, (m-1)*ars+(k-1)*acs+1)
						ldb, ldc := n+3, n+5
						b := randSlice(rng, (k-1)*ldb+n)
						c0 := randSlice(rng, (m-1)*ldc+n+5)
						want, got := clone(c0), clone(c0)
						withImpl(simdGemm, func() { rowsGemm(m, n, k, a, ars, acs, b, ldb, want, ldc, 0.3, acc, nil) })
						withImpl(avx512Gemm, func() { rowsGemm(m, n, k, a, ars, acs, b, ldb, got, ldc, 0.3, acc, nil) })
						assertBits(t, fmt.Sprintf("rowsGemm m=%d n=%d k=%d trans=%v acc=%v", m, n, k, trans, acc), got, want)
					}
				}
			}
		}
	}
}

// TestAttentionAVX512BitIdentical runs the attention forward and backward
// with the AVX2 and the AVX-512 implementations active.
func TestAttentionAVX512BitIdentical(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewSource(14))
	for _, s := range [][4]int{{3, 17, 64, 4}, {2, 50, 192, 3}, {1, 197, 192, 3}} {
		B, T, D, H := s[0], s[1], s[2], s[3]
		qkv, dout := randSlice(rng, B*T*3*D), randSlice(rng, B*T*D)
		type res struct{ out, probs, dqkv []float32 }
		run := func(im *gemmImpl) (r res) {
			withImpl(im, func() {
				r.out, r.probs = make([]float32, B*T*D), make([]float32, B*H*T*T)
				AttentionForward(r.out, r.probs, qkv, B, T, D, H)
				r.dqkv = make([]float32, B*T*3*D)
				AttentionBackward(r.dqkv, dout, qkv, r.probs, make([]float32, AttentionScratchSize(B, T, D, H)), B, T, D, H)
			})
			return r
		}
		want, got := run(simdGemm), run(avx512Gemm)
		name := fmt.Sprintf("B%d_T%d_D%d_H%d", B, T, D, H)
		assertBits(t, name+" out", got.out, want.out)
		assertBits(t, name+" probs", got.probs, want.probs)
		assertBits(t, name+" dqkv", got.dqkv, want.dqkv)
	}
}

// TestGeluBackwardAVX512BitIdentical: GeluBackward gives the same bits with
// the AVX-512 kernel as with the AVX2 one, on a fine grid over the whole
// line (both |x| >= 13 masks, the sign blend), special values and random
// lengths (16-groups, an 8-group and a tail).
func TestGeluBackwardAVX512BitIdentical(t *testing.T) {
	requireAVX512(t)
	if !hasAVX512DQ {
		t.Skip("no AVX512DQ on this CPU: GeluBackward keeps the AVX2 kernel, nothing to compare")
	}
	rng := rand.New(rand.NewSource(15))
	xs := []float32{0, float32(math.Copysign(0, -1)), 1, -1, 13, -13, 13.000001, -13.000001, 12.999999, -12.999999,
		float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), -float32(math.NaN()), 1e-30, -1e-30, 1e-45, -1e-45,
		math.MaxFloat32, -math.MaxFloat32, 20, -20, 100, -100}
	for i := -40000; i <= 40000; i++ {
		xs = append(xs, float32(i)*0.0004) // -16..16
	}
	for i := 0; i < 20000; i++ {
		xs = append(xs, float32(rng.NormFloat64()*3))
	}
	for _, n := range []int{len(xs), len(xs) - 5, len(xs) - 8, 37, 24, 16, 15, 8, 3} {
		x := xs[len(xs)-n:]
		g := randSlice(rng, n)
		d0 := randSlice(rng, n)
		want, got := clone(d0), clone(d0)
		withImpl(simdGemm, func() { GeluBackward(want, x, g) })
		withImpl(avx512Gemm, func() { GeluBackward(got, x, g) })
		assertBits(t, fmt.Sprintf("GeluBackward n=%d", n), got, want)
	}
}
