package kernels

import (
	"math"
	"math/rand"
	"testing"
)

func TestRowsGemm(t *testing.T) {
	rng := rand.New(rand.NewSource(90))
	for _, simd := range []bool{false, true} {
		if simd && !hasSIMD() {
			continue
		}
		for _, m := range []int{1, 3, 4, 5, 9, 17, 24, 31, 50} {
			for _, n := range []int{1, 7, 8, 16, 24, 40, 64, 72} {
				for _, k := range []int{1, 2, 16, 17, 32, 64} {
					for _, trans := range []bool{false, true} {
						for _, acc := range []bool{false, true} {
							ars, acs := k+1, 1
							if trans {
								ars, acs = 1, m+2
							}
							a := randSlice(rng, (m-1)*ars+(k-1)*acs+1)
							ldb, ldc := n+3, n+5
							b := randSlice(rng, (k-1)*ldb+n)
							c := randSlice(rng, (m-1)*ldc+n+5)
							want := make([]float64, len(c))
							for i := range c {
								want[i] = float64(c[i])
							}
							for i := 0; i < m; i++ {
								for j := 0; j < n; j++ {
									var s float64
									for p := 0; p < k; p++ {
										s += float64(a[i*ars+p*acs]) * float64(b[p*ldb+j])
									}
									s *= 0.5
									if acc {
										s += float64(c[i*ldc+j])
									}
									want[i*ldc+j] = s
								}
							}
							withImpl(map[bool]*gemmImpl{false: genericGemm, true: simdGemm}[simd], func() {
								rowsGemm(m, n, k, a, ars, acs, b, ldb, c, ldc, 0.5, acc, nil)
							})
							assertClose(t, "rowsGemm", c, want, 1e-5, 1e-5*float64(k))
						}
					}
				}
			}
		}
	}
}

func TestExpShift(t *testing.T) {
	xs := []float32{0, -1, 1, -0.5, 0.5, 10, -10, -50, 50, -87, -87.3, -100, -1e30, 88, 1e-8, -1e-8}
	for i := 0; i < 4000; i++ {
		xs = append(xs, float32(-90+float64(i)*0.045))
	}
	for len(xs)%8 != 0 {
		xs = append(xs, 0)
	}
	for _, simd := range []bool{false, true} {
		if simd && !hasSIMD() {
			continue
		}
		y := clone(xs)
		withImpl(map[bool]*gemmImpl{false: genericGemm, true: simdGemm}[simd], func() { expShift(y, 0.25) })
		for i, x := range xs {
			arg := float64(x - 0.25) // the kernel rounds the shifted argument to float32
			want := math.Exp(arg)
			if arg > 88.3 {
				continue // clamped by design (exp(88.72) overflows float32)
			}
			if arg < -87.3 {
				if y[i] > 1.3e-38 || y[i] < 0 {
					t.Errorf("simd=%v exp(%g) = %g, want ~0", simd, arg, y[i])
				}
				continue
			}
			if !closeTo(float64(y[i]), want, 4e-7, 0) {
				t.Errorf("simd=%v exp(%g) = %g, want %g (rel %.3g)", simd, arg, y[i], want, math.Abs(float64(y[i])-want)/want)
			}
		}
	}
}

func TestTranspose(t *testing.T) {
	rng := rand.New(rand.NewSource(91))
	for _, im := range impls() {
		for _, rows := range []int{1, 3, 7, 8, 9, 16, 17, 50} {
			for _, cols := range []int{1, 5, 8, 16, 24, 64, 65} {
				lds, ldd := cols+3, rows+5
				src := randSlice(rng, rows*lds)
				dst := randSlice(rng, cols*ldd)
				want := clone(dst)
				for r := 0; r < rows; r++ {
					for c := 0; c < cols; c++ {
						want[c*ldd+r] = src[r*lds+c]
					}
				}
				withImpl(im, func() { transpose(dst, ldd, src, lds, rows, cols) })
				assertBits(t, im.name+" transpose", dst, want)
			}
		}
	}
}

func TestSoftmaxRows(t *testing.T) {
	rng := rand.New(rand.NewSource(92))
	for _, im := range impls() {
		for _, T := range []int{1, 5, 8, 17, 50} {
			tp := (T + 7) &^ 7
			rows := 3
			s := randSlice(rng, rows*tp)
			for i := range s {
				s[i] *= 10
			}
			s[0] = 80 // large values stay stable
			for r := 0; r < rows; r++ {
				for j := T; j < tp; j++ {
					s[r*tp+j] = float32(math.Inf(-1))
				}
			}
			want := make([]float64, len(s))
			for r := 0; r < rows; r++ {
				mx := math.Inf(-1)
				for j := 0; j < T; j++ {
					mx = math.Max(mx, float64(s[r*tp+j]))
				}
				var sum float64
				for j := 0; j < T; j++ {
					sum += math.Exp(float64(s[r*tp+j]) - mx)
				}
				for j := 0; j < T; j++ {
					want[r*tp+j] = math.Exp(float64(s[r*tp+j])-mx) / sum
				}
			}
			withImpl(im, func() { softmaxRows(s, tp, rows) })
			assertClose(t, im.name+" softmaxRows", s, want, 1e-5, 1e-30)
		}
	}
}

func TestSoftmaxBackRows(t *testing.T) {
	rng := rand.New(rand.NewSource(93))
	for _, im := range impls() {
		for _, tp := range []int{8, 16, 24, 56} {
			rows := 5
			p, d := randSlice(rng, rows*tp), randSlice(rng, rows*tp)
			want := make([]float64, len(d))
			for r := 0; r < rows; r++ {
				var s float64
				for j := 0; j < tp; j++ {
					s += float64(p[r*tp+j]) * float64(d[r*tp+j])
				}
				for j := 0; j < tp; j++ {
					want[r*tp+j] = float64(p[r*tp+j]) * (float64(d[r*tp+j]) - s) * 0.25
				}
			}
			withImpl(im, func() { softmaxBackRows(p, d, tp, rows, 0.25) })
			assertClose(t, im.name+" softmaxBackRows", d, want, 1e-4, 1e-5)
		}
	}
}
