//go:build amd64 && !purego

package kernels

import "golang.org/x/sys/cpu"

// simdGemm is the AVX2+FMA GEMM: a 6×16 micro-kernel in Go assembly that
// reads A and B unpacked (only transposed B and edge panels are packed).
var simdGemm = &gemmImpl{
	name: "avx2-fma",
	mr:   6, nr: 16,
	kc: 256, mc: 72, nc: 256,
	direct: true,
	kern:   kernel6x16,
}

func hasSIMD() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }

//go:noescape
func gemmKernel6x16(kc int, a *float32, ars, acs, ats int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, bias *float32, tiles int)

func kernel6x16(kc int, a []float32, ars, acs, ats int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, bias []float32, tiles int) {
	if tiles <= 0 {
		return
	}
	// Bounds checks for the assembly (it reads A and B only when kc > 0).
	if kc > 0 {
		_ = a[(tiles-1)*ats+5*ars+(kc-1)*acs]
		_ = b[(kc-1)*bs+15]
	}
	_ = c[(tiles*6-1)*ldc+15]
	var bp *float32
	if bias != nil {
		_ = bias[15]
		bp = &bias[0]
	}
	gemmKernel6x16(kc, &a[0], ars, acs, ats, &b[0], bs, &c[0], ldc, alpha, beta, bp, tiles)
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

//go:noescape
func addAVX2(out, a, b *float32, n int)

//go:noescape
func axpyAVX2(alpha float32, x, y *float32, n int)

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func lnForwardAVX2(out, mean, rstd, inp, w, b *float32, rows, dim int, eps, invDim float32)

//go:noescape
func lnBackwardAVX2(dinp, dout, inp, w, mean, rstd *float32, rows, dim int, invDim float32)

//go:noescape
func lnParamsAVX2(dw, db, dout, inp, mean, rstd *float32, rows, ld, width int)

// addSIMD sets out = a + b (equal lengths).
func addSIMD(out, a, b []float32) {
	n := len(out)
	a, b = a[:n], b[:n]
	m := n &^ 7
	if m > 0 {
		addAVX2(&out[0], &a[0], &b[0], m)
	}
	for i := m; i < n; i++ {
		out[i] = a[i] + b[i]
	}
}

// axpySIMD sets y += alpha*x (equal lengths; FMA, so rounding differs from axpyGo).
func axpySIMD(alpha float32, x, y []float32) {
	n := len(y)
	x = x[:n]
	m := n &^ 7
	if m > 0 {
		axpyAVX2(alpha, &x[0], &y[0], m)
	}
	for i := m; i < n; i++ {
		y[i] += alpha * x[i]
	}
}

// dotSIMD returns sum a[i]*b[i] (equal lengths) in a fixed order.
func dotSIMD(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	m := n &^ 31
	var s float32
	if m > 0 {
		s = dotAVX2(&a[0], &b[0], m)
	}
	for i := m; i < n; i++ {
		s += a[i] * b[i]
	}
	return s
}

// The LayerNorm kernels need dim % 8 == 0 and a weight (and bias, forward).
func lnSIMDOK(dim int, weight, bias []float32, needBias bool) bool {
	return dim > 0 && dim&7 == 0 && weight != nil && (bias != nil || !needBias)
}

func lnForwardSIMD(out, mean, rstd, inp, weight, bias []float32, rows, dim int, eps float32) {
	_ = out[rows*dim-1]
	_ = inp[rows*dim-1]
	_ = mean[rows-1]
	_ = rstd[rows-1]
	_ = weight[dim-1]
	_ = bias[dim-1]
	lnForwardAVX2(&out[0], &mean[0], &rstd[0], &inp[0], &weight[0], &bias[0], rows, dim, eps, 1/float32(dim))
}

func lnBackwardSIMD(dinp, dout, inp, weight, mean, rstd []float32, rows, dim int) {
	_ = dinp[rows*dim-1]
	_ = dout[rows*dim-1]
	_ = inp[rows*dim-1]
	_ = mean[rows-1]
	_ = rstd[rows-1]
	_ = weight[dim-1]
	lnBackwardAVX2(&dinp[0], &dout[0], &inp[0], &weight[0], &mean[0], &rstd[0], rows, dim, 1/float32(dim))
}

// lnParamsSIMD accumulates dweight/dbias for columns [lo,hi) (multiples of 8).
func lnParamsSIMD(dweight, dbias, dout, inp, mean, rstd []float32, rows, dim, lo, hi int) {
	_ = dout[(rows-1)*dim+hi-1]
	_ = inp[(rows-1)*dim+hi-1]
	_ = mean[rows-1]
	_ = rstd[rows-1]
	var dw, db *float32
	if dweight != nil {
		dw = &dweight[lo:hi][0]
	}
	if dbias != nil {
		db = &dbias[lo:hi][0]
	}
	lnParamsAVX2(dw, db, &dout[lo], &inp[lo], &mean[0], &rstd[0], rows, dim, hi-lo)
}
