package kernels

import "runtime"

// genericGemm is the portable pure-Go GEMM: a register-blocked micro-kernel
// over packed panels. With 16 float registers (amd64, 386) a 4×2 tile keeps
// its accumulators in registers; with 32 (arm64 and the others) a 4×4 tile
// does.
var genericGemm = map[bool]*gemmImpl{true: generic4x2, false: generic4x4}[runtime.GOARCH == "amd64" || runtime.GOARCH == "386"]

var generic4x4 = &gemmImpl{
	name: "purego",
	mr:   4, nr: 4,
	kc: 256, mc: 64, nc: 256,
	kern: kernel4x4Go,
}

var generic4x2 = &gemmImpl{
	name: "purego",
	mr:   4, nr: 2,
	kc: 256, mc: 64, nc: 256,
	kern: kernel4x2Go,
}

// kernel4x2Go is the 4×2 pure-Go micro-kernel (packed panels only).
func kernel4x2Go(kc int, a []float32, ars, acs, ats int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, bias []float32, tiles int) {
	if ars != 1 || acs != 4 || bs != 2 {
		panic("kernels: kernel4x2Go needs packed panels")
	}
	var bb [2]float32
	if bias != nil {
		copy(bb[:], bias[:2])
	}
	for t := 0; t < tiles; t++ {
		aa := a[t*ats : t*ats+4*kc]
		bp := b[:2*kc]
		var c00, c01, c10, c11, c20, c21, c30, c31 float32
		for p := 0; p < kc; p++ {
			x := aa[4*p : 4*p+4 : 4*p+4]
			y := bp[2*p : 2*p+2 : 2*p+2]
			b0, b1 := y[0], y[1]
			a0 := x[0]
			c00 += a0 * b0
			c01 += a0 * b1
			a1 := x[1]
			c10 += a1 * b0
			c11 += a1 * b1
			a2 := x[2]
			c20 += a2 * b0
			c21 += a2 * b1
			a3 := x[3]
			c30 += a3 * b0
			c31 += a3 * b1
		}
		cc := c[t*4*ldc:]
		store2(cc[0:2:2], c00, c01, alpha, beta, &bb)
		store2(cc[ldc:ldc+2:ldc+2], c10, c11, alpha, beta, &bb)
		store2(cc[2*ldc:2*ldc+2:2*ldc+2], c20, c21, alpha, beta, &bb)
		store2(cc[3*ldc:3*ldc+2:3*ldc+2], c30, c31, alpha, beta, &bb)
	}
}

func store2(c []float32, x0, x1, alpha, beta float32, bias *[2]float32) {
	if beta == 0 {
		c[0] = alpha*x0 + bias[0]
		c[1] = alpha*x1 + bias[1]
		return
	}
	c[0] = alpha*x0 + bias[0] + beta*c[0]
	c[1] = alpha*x1 + bias[1] + beta*c[1]
}

// kernel4x4Go is the pure-Go micro-kernel. It only handles packed panels
// (ars=1, acs=4, bs=4), which is what the driver gives it (direct=false).
func kernel4x4Go(kc int, a []float32, ars, acs, ats int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, bias []float32, tiles int) {
	if ars != 1 || acs != 4 || bs != 4 {
		panic("kernels: kernel4x4Go needs packed panels")
	}
	for t := 0; t < tiles; t++ {
		tile4x4Go(kc, a[t*ats:t*ats+4*kc], b, c[t*4*ldc:], ldc, alpha, beta, bias)
	}
}

func tile4x4Go(kc int, a, b, c []float32, ldc int, alpha, beta float32, bias []float32) {
	a = a[:kc*4]
	b = b[:kc*4]
	var c00, c01, c02, c03 float32
	var c10, c11, c12, c13 float32
	var c20, c21, c22, c23 float32
	var c30, c31, c32, c33 float32
	for p := 0; p < len(a) && p < len(b); p += 4 {
		aa := a[p : p+4 : p+4]
		bb := b[p : p+4 : p+4]
		b0, b1, b2, b3 := bb[0], bb[1], bb[2], bb[3]
		a0 := aa[0]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		a1 := aa[1]
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		a2 := aa[2]
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		a3 := aa[3]
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	var bb [4]float32
	if bias != nil {
		copy(bb[:], bias[:4])
	}
	store4(c[0:4:4], c00, c01, c02, c03, alpha, beta, &bb)
	store4(c[ldc:ldc+4:ldc+4], c10, c11, c12, c13, alpha, beta, &bb)
	store4(c[2*ldc:2*ldc+4:2*ldc+4], c20, c21, c22, c23, alpha, beta, &bb)
	store4(c[3*ldc:3*ldc+4:3*ldc+4], c30, c31, c32, c33, alpha, beta, &bb)
}

func store4(c []float32, x0, x1, x2, x3, alpha, beta float32, bias *[4]float32) {
	if beta == 0 {
		c[0] = alpha*x0 + bias[0]
		c[1] = alpha*x1 + bias[1]
		c[2] = alpha*x2 + bias[2]
		c[3] = alpha*x3 + bias[3]
		return
	}
	c[0] = alpha*x0 + bias[0] + beta*c[0]
	c[1] = alpha*x1 + bias[1] + beta*c[1]
	c[2] = alpha*x2 + bias[2] + beta*c[2]
	c[3] = alpha*x3 + bias[3] + beta*c[3]
}
