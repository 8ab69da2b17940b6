//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// simdGemm is the AVX2+FMA GEMM: a 6×16 micro-kernel in Go assembly.
var simdGemm = &gemmImpl{
	name: "avx2-fma",
	mr:   6, nr: 16,
	kc: 256, mc: 72, nc: 256,
	kern: kernel6x16,
}

func hasSIMD() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

//go:noescape
func gemmKernel6x16(kc int, a, b, c *float32, ldc int, alpha, beta float32, tiles int)

func kernel6x16(kc int, a, b, c []float32, ldc int, alpha, beta float32, tiles int) {
	if tiles <= 0 || kc <= 0 {
		return
	}
	// Bounds checks for the assembly.
	_ = a[tiles*6*kc-1]
	_ = b[16*kc-1]
	_ = c[(tiles*6-1)*ldc+15]
	gemmKernel6x16(kc, &a[0], &b[0], &c[0], ldc, alpha, beta, tiles)
}

//go:noescape
func geluForwardAVX2(out, inp *float32, n int)

//go:noescape
func geluBackwardAVX2(dinp, inp, dout *float32, n int)

// geluForwardSIMD handles any length: whole groups of 8 in place, the tail
// through a padded buffer (so every element gets the same arithmetic).
func geluForwardSIMD(out, inp []float32) {
	n := len(inp)
	out = out[:n]
	if m := n &^ 7; m > 0 {
		geluForwardAVX2(&out[0], &inp[0], m)
	}
	if r := n & 7; r > 0 {
		var xb, ob [8]float32
		copy(xb[:], inp[n-r:])
		geluForwardAVX2(&ob[0], &xb[0], 8)
		copy(out[n-r:], ob[:r])
	}
}

func geluBackwardSIMD(dinp, inp, dout []float32) {
	n := len(inp)
	dinp, dout = dinp[:n], dout[:n]
	if m := n &^ 7; m > 0 {
		geluBackwardAVX2(&dinp[0], &inp[0], &dout[0], m)
	}
	if r := n & 7; r > 0 {
		var xb, gb, db [8]float32
		copy(xb[:], inp[n-r:])
		copy(gb[:], dout[n-r:])
		copy(db[:], dinp[n-r:])
		geluBackwardAVX2(&db[0], &xb[0], &gb[0], 8)
		copy(dinp[n-r:], db[:r])
	}
}

//go:noescape
func rowsGemmAVX2(m, n, k int, a *float32, ars, acs int, b *float32, ldb int, c *float32, ldc int, alpha float32, acc bool)

//go:noescape
func expShiftAVX2(x *float32, n int, shift float32)

// rowsGemmSIMD: see rowsGemm. The AVX2 kernel needs n to be a multiple of 8.
func rowsGemmSIMD(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, alpha float32, acc bool) {
	if n&7 != 0 {
		rowsGemmGo(m, n, k, a, ars, acs, b, ldb, c, ldc, alpha, acc)
		return
	}
	// Bounds checks for the assembly.
	_ = a[(m-1)*ars+(k-1)*acs]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	rowsGemmAVX2(m, n, k, &a[0], ars, acs, &b[0], ldb, &c[0], ldc, alpha, acc)
}

// expShiftSIMD sets x[i] = exp(x[i]-shift); len(x) must be a multiple of 8.
func expShiftSIMD(x []float32, shift float32) {
	if len(x)&7 != 0 {
		expShiftGo(x, shift)
		return
	}
	if len(x) > 0 {
		expShiftAVX2(&x[0], len(x), shift)
	}
}
