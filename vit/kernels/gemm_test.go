package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// gemmRef is the obviously-correct reference GEMM, accumulating in float64.
func gemmRef(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) []float64 {
	out := make([]float64, len(c))
	for i := range c {
		out[i] = float64(c[i])
	}
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for p := 0; p < k; p++ {
				var av, bv float32
				if transA {
					av = a[p*lda+i]
				} else {
					av = a[i*lda+p]
				}
				if transB {
					bv = b[j*ldb+p]
				} else {
					bv = b[p*ldb+j]
				}
				s += float64(av) * float64(bv)
			}
			v := float64(alpha) * s
			if beta != 0 {
				v += float64(beta) * float64(c[i*ldc+j])
			}
			out[i*ldc+j] = v
		}
	}
	return out
}

type gemmCase struct {
	transA, transB bool
	m, n, k        int
	alpha, beta    float32
	pad            int // extra stride beyond the logical width
}

func (g gemmCase) String() string {
	return fmt.Sprintf("tA=%v,tB=%v,m=%d,n=%d,k=%d,a=%g,b=%g,pad=%d", g.transA, g.transB, g.m, g.n, g.k, g.alpha, g.beta, g.pad)
}

func runGemmCase(t *testing.T, im *gemmImpl, rng *rand.Rand, g gemmCase) {
	t.Helper()
	ar, ac := g.m, g.k
	if g.transA {
		ar, ac = g.k, g.m
	}
	br, bc := g.k, g.n
	if g.transB {
		br, bc = g.n, g.k
	}
	lda, ldb, ldc := ac+g.pad, bc+g.pad, g.n+g.pad
	a := randSlice(rng, max(0, (ar-1)*lda+ac))
	b := randSlice(rng, max(0, (br-1)*ldb+bc))
	c := randSlice(rng, max(0, g.m*ldc))
	if g.beta == 0 {
		for i := range c {
			if (i % ldc) < g.n {
				c[i] = float32(math.NaN())
			}
		}
	}
	want := gemmRef(g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, c, ldc)
	gemm(im, AllCores, g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, lda, b, ldb, g.beta, c, ldc, nil)
	tol := 1e-5 * math.Sqrt(float64(g.k)+1)
	for i := range want {
		if !closeTo(float64(c[i]), want[i], tol, tol*(1+math.Sqrt(float64(g.k)))) {
			t.Fatalf("%s %v: c[%d] (row %d col %d) = %g, want %g", im.name, g, i, i/max(ldc, 1), i%max(ldc, 1), c[i], want[i])
		}
	}
}

func TestGemmAgainstReference(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	sizes := []int{1, 2, 3, 5, 7, 16, 17, 33, 65}
	for _, im := range impls() {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, m := range sizes {
					for _, n := range sizes {
						for _, k := range []int{1, 3, 17, 65} {
							ab := [][2]float32{{1, 0}, {0.5, 1}, {-1.5, 0.25}}[rng.Intn(3)]
							runGemmCase(t, im, rng, gemmCase{tA, tB, m, n, k, ab[0], ab[1], rng.Intn(3) * 3})
						}
					}
				}
			}
		}
	}
}

func TestGemmLargeShapes(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	cases := []gemmCase{
		{false, true, 1088, 192, 64, 1, 0, 0},   // qkv forward
		{false, false, 1088, 64, 192, 1, 1, 0},  // qkv dinp
		{true, false, 192, 64, 1088, 1, 1, 0},   // qkv dW
		{false, true, 301, 129, 300, 0.7, 0, 5}, // k > kc, edges everywhere
		{true, true, 77, 131, 517, -1, 0.5, 2},
		{false, false, 130, 70, 600, 1, 1, 1},
		// several row blocks (the last short) by several column blocks (the
		// last short), split across goroutines
		{false, true, 401, 600, 70, 1, 0.5, 3},
		{true, false, 415, 530, 90, -0.5, 0, 0},
	}
	for _, im := range impls() {
		for _, g := range cases {
			runGemmCase(t, im, rng, g)
		}
	}
}

func TestGemmDegenerate(t *testing.T) {
	for _, im := range impls() {
		// k == 0: C = beta*C.
		c := []float32{1, 2, float32(math.NaN()), 4}
		gemm(im, AllCores, false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0, c, 2, nil)
		assertBits(t, "k0 beta0", c, []float32{0, 0, 0, 0})
		c = []float32{1, 2, 3, 4}
		gemm(im, AllCores, false, false, 2, 2, 0, 1, nil, 1, nil, 2, 2, c, 2, nil)
		assertBits(t, "k0 beta2", c, []float32{2, 4, 6, 8})
		// m == 0 or n == 0: nothing happens.
		gemm(im, AllCores, false, false, 0, 3, 3, 1, nil, 3, make([]float32, 9), 3, 0, nil, 3, nil)
		gemm(im, AllCores, false, false, 3, 0, 3, 1, make([]float32, 9), 3, nil, 1, 0, nil, 1, nil)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("short slice did not panic")
		}
	}()
	Gemm(false, false, 4, 4, 4, 1, make([]float32, 15), 4, make([]float32, 16), 4, 0, make([]float32, 16), 4)
}

// TestGemmSIMDMatchesGo compares the two implementations directly.
func TestGemmSIMDMatchesGo(t *testing.T) {
	if len(impls()) < 2 {
		t.Skip("no SIMD implementation on this machine/build")
	}
	rng := rand.New(rand.NewSource(3))
	for it := 0; it < 200; it++ {
		tA, tB := rng.Intn(2) == 1, rng.Intn(2) == 1
		m, n, k := 1+rng.Intn(150), 1+rng.Intn(150), 1+rng.Intn(400)
		ar, ac := m, k
		if tA {
			ar, ac = k, m
		}
		br, bc := k, n
		if tB {
			br, bc = n, k
		}
		a, b := randSlice(rng, ar*ac), randSlice(rng, br*bc)
		c0 := randSlice(rng, m*n)
		c1, c2 := clone(c0), clone(c0)
		gemm(genericGemm, AllCores, tA, tB, m, n, k, 1, a, ac, b, bc, 0.5, c1, n, nil)
		gemm(simdGemm, AllCores, tA, tB, m, n, k, 1, a, ac, b, bc, 0.5, c2, n, nil)
		tol := 1e-5 * math.Sqrt(float64(k))
		assertClose32(t, fmt.Sprintf("simd vs go m=%d n=%d k=%d", m, n, k), c2, c1, tol, tol*math.Sqrt(float64(k)))
	}
}

func TestGemmDeterministicAcrossThreads(t *testing.T) {
	rng := rand.New(rand.NewSource(4))
	for _, im := range impls() {
		for _, g := range []gemmCase{
			{false, true, 1088, 192, 64, 1, 0, 0},
			{true, false, 128, 64, 1088, 1, 1, 0},
			{false, false, 333, 97, 555, 1, 1, 3},
		} {
			ar, ac := g.m, g.k
			if g.transA {
				ar, ac = g.k, g.m
			}
			br, bc := g.k, g.n
			if g.transB {
				br, bc = g.n, g.k
			}
			a, b := randSlice(rng, ar*ac), randSlice(rng, br*bc)
			c0 := randSlice(rng, g.m*g.n)
			var outs [][]float32
			for _, procs := range []int{1, 2, 3} {
				c := clone(c0)
				withProcs(procs, func() {
					gemm(im, AllCores, g.transA, g.transB, g.m, g.n, g.k, g.alpha, a, ac, b, bc, g.beta, c, g.n, nil)
				})
				outs = append(outs, c)
			}
			assertBits(t, im.name+" procs 2 vs 1", outs[1], outs[0])
			assertBits(t, im.name+" procs 3 vs 1", outs[2], outs[0])
		}
	}
}

// FuzzGemm compares Gemm with the float64 reference on fuzzed shapes.
func FuzzGemm(f *testing.F) {
	f.Add(uint8(3), uint8(5), uint8(7), uint8(0), int64(1))
	f.Add(uint8(17), uint8(16), uint8(64), uint8(3), int64(2))
	f.Fuzz(func(t *testing.T, m, n, k, flags uint8, seed int64) {
		rng := rand.New(rand.NewSource(seed))
		g := gemmCase{flags&1 != 0, flags&2 != 0, int(m%80) + 1, int(n%80) + 1, int(k%80) + 1, 1, 0, int(flags>>2) % 4}
		if flags&16 != 0 {
			g.alpha, g.beta = -0.5, 2
		}
		for _, im := range impls() {
			runGemmCase(t, im, rng, g)
		}
	})
}

// TestGenericKernels runs both pure-Go micro-kernels (only one of them is the
// default on a given architecture) against the reference.
func TestGenericKernels(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for _, im := range []*gemmImpl{generic4x4, generic4x2} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, sz := range [][3]int{{1, 1, 1}, {5, 3, 7}, {17, 33, 9}, {66, 65, 300}} {
					runGemmCase(t, im, rng, gemmCase{tA, tB, sz[0], sz[1], sz[2], 0.5, 1, 2})
					runGemmCase(t, im, rng, gemmCase{tA, tB, sz[0], sz[1], sz[2], 1, 0, 0})
				}
			}
		}
		c := make([]float32, 7*9)
		a, b, bias := randSlice(rng, 7*5), randSlice(rng, 9*5), randSlice(rng, 9)
		gemm(im, AllCores, false, true, 7, 9, 5, 1, a, 5, b, 5, 0, c, 9, bias)
		assertClose(t, "generic bias", c, linearRef(a, b, bias, 7, 5, 9), 1e-5, 1e-5)
	}
}
