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

// laneSpans splits n elements for the element-wise kernels: [0, n16)
// through the 16-lane AVX-512 kernel (empty unless the AVX-512 GEMM is
// active), [n16, n8) through the 8-lane AVX2 one, and the tail [n8, n) by
// each caller's own means. The 16-lane kernels do the 8-lane ones'
// operations, so the split changes no bit.
func laneSpans(n int) (n16, n8 int) {
	if activeGemm == avx512Gemm {
		n16 = n &^ 15
	}
	return n16, n &^ 7
}

// geluForwardSIMD handles any length: whole groups of 8 in place, the tail
// through a padded buffer (so every element gets the same arithmetic). With
// the AVX-512 GEMM active, whole groups of 16 go through geluForwardAVX512
// (the AVX2 kernel's operations on 16 lanes: the same bits).
func geluForwardSIMD(out, inp []float32) {
	n := len(inp)
	out = out[:n]
	n16, n8 := laneSpans(n)
	if n16 > 0 {
		geluForwardAVX512(&out[0], &inp[0], n16)
	}
	if n8 > n16 {
		geluForwardAVX2(&out[n16], &inp[n16], n8-n16)
	}
	if r := n & 7; r > 0 {
		var xb, ob [8]float32
		copy(xb[:], inp[n-r:])
		geluForwardAVX2(&ob[0], &xb[0], 8)
		copy(out[n-r:], ob[:r])
	}
}

// geluBackwardSIMD: with the AVX-512 GEMM active, whole groups of 16 go
// through geluBackwardAVX512 (the AVX2 kernel's operations on 16 lanes:
// the same bits).
func geluBackwardSIMD(dinp, inp, dout []float32) {
	n := len(inp)
	dinp, dout = dinp[:n], dout[:n]
	n16, n8 := laneSpans(n)
	if !hasAVX512DQ {
		n16 = 0
	}
	if n16 > 0 {
		geluBackwardAVX512(&dinp[0], &inp[0], &dout[0], n16)
	}
	if n8 > n16 {
		geluBackwardAVX2(&dinp[n16], &inp[n16], &dout[n16], n8-n16)
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

// rowsGemmSIMD: see rowsGemm. For larger blocks, 6 rows at a time go
// through the GEMM micro-kernels (6×16 and 6×8, or 12×32 and 6×32 with
// AVX-512; general strides, no packing), and the last m%6 rows through the
// same kernels via copies padded to 6 rows (in tmp); small blocks use the
// 4-row kernels of rowsGemmAVX2. All of them compute alpha*(FMA chain over
// p from zero), then add C: every element gets the same bits whichever
// kernel runs it, and never depends on the split across goroutines.
func rowsGemmSIMD(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, alpha float32, acc bool, tmp []float32) {
	if n&7 != 0 {
		rowsGemmGo(m, n, k, a, ars, acs, b, ldb, c, ldc, alpha, acc)
		return
	}
	// Bounds checks for the assembly.
	_ = a[(m-1)*ars+(k-1)*acs]
	_ = b[(k-1)*ldb+n-1]
	_ = c[(m-1)*ldc+n-1]
	if !rowsGemmBlocked(m, k) {
		// Small blocks: the 4-row kernel has less per-call overhead.
		rowsGemm4(m, n, k, a, ars, acs, b, ldb, c, ldc, alpha, acc, tmp)
		return
	}
	rowsGemm6(m, n, k, a, ars, acs, b, ldb, c, ldc, alpha, acc, tmp)
}

// rowsGemmBlocked reports whether rowsGemmSIMD runs an m×n×k product on the
// GEMM micro-kernels rather than the 4-row kernel. Set by measurement on the
// 2-core EPYC (BenchmarkRowsGemmKernels, 1 goroutine): the micro-kernels win
// from 24 rows and k = 32 (0.5 against 1.0 us at 24×64×32) at any n,
// ViT-Ti's attention backward products (197 rows, n or k = 197..200)
// included: 25-29 against 52-57 us.
func rowsGemmBlocked(m, k int) bool { return m >= 24 && k >= 32 }

// rowsGemm6 is rowsGemmSIMD on the GEMM micro-kernels (bounds checked, n a
// multiple of 8).
func rowsGemm6(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, alpha float32, acc bool, tmp []float32) {
	m6 := m - m%6
	if m6 > 0 {
		rowsBlock6(m6, n, k, a, ars, acs, b, ldb, c, ldc, alpha, acc)
	}
	if m6 == m {
		return
	}
	if len(tmp) < 6*(k+n) {
		tmp = make([]float32, 6*(k+n))
	}
	at, ct := tmp[:6*k], tmp[6*k:6*(k+n)]
	r := m - m6
	for i := 0; i < r; i++ {
		row := at[i*k : (i+1)*k]
		off := (m6 + i) * ars
		for p := range row {
			row[p] = a[off+p*acs]
		}
		if acc {
			copy(ct[i*n:(i+1)*n], c[(m6+i)*ldc:(m6+i)*ldc+n])
		}
	}
	// Rows r..5 of the copies hold stale values; their results are dropped.
	rowsBlock6(6, n, k, at, k, 1, b, ldb, ct, n, alpha, acc)
	for i := 0; i < r; i++ {
		copy(c[(m6+i)*ldc:(m6+i)*ldc+n], ct[i*n:(i+1)*n])
	}
}

// rowsGemm4 runs rowsGemmAVX2 on whole 4-row blocks and, when k and n
// allow, the last m%4 rows through the 4-row kernel too, via copies padded
// to 4 rows (in tmp).
func rowsGemm4(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, alpha float32, acc bool, tmp []float32) {
	m4 := m &^ 3
	if m4 == m || k > 64 || n > 64 {
		rowsGemmAVX2(m, n, k, &a[0], ars, acs, &b[0], ldb, &c[0], ldc, alpha, acc)
		return
	}
	if m4 > 0 {
		rowsGemmAVX2(m4, n, k, &a[0], ars, acs, &b[0], ldb, &c[0], ldc, alpha, acc)
	}
	if len(tmp) < 4*(k+n) {
		tmp = make([]float32, 4*(k+n))
	}
	at, ct := tmp[:4*k], tmp[4*k:4*(k+n)]
	r := m - m4
	for i := 0; i < r; i++ {
		row := at[i*k : (i+1)*k]
		off := (m4 + i) * ars
		for p := range row {
			row[p] = a[off+p*acs]
		}
		if acc {
			copy(ct[i*n:(i+1)*n], c[(m4+i)*ldc:(m4+i)*ldc+n])
		}
	}
	rowsGemmAVX2(4, n, k, &at[0], k, 1, &b[0], ldb, &ct[0], n, alpha, acc)
	for i := 0; i < r; i++ {
		copy(c[(m4+i)*ldc:(m4+i)*ldc+n], ct[i*n:(i+1)*n])
	}
}

// rowsBlock6 is rowsGemmSIMD for m a multiple of 6, n a multiple of 8
// (bounds already checked). With the AVX-512 GEMM active, 32-column strips
// go through its 12×32 and 6×32 kernels, which do the 6×16 kernel's
// arithmetic per element: the results are the same bits either way.
func rowsBlock6(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, alpha float32, acc bool) {
	beta := float32(0)
	if acc {
		beta = 1
	}
	j := 0
	if activeGemm == avx512Gemm {
		m12 := m - m%12
		for ; j+32 <= n; j += 32 {
			if m12 > 0 {
				gemmKernel12x32AVX512(k, &a[0], ars, acs, 12*ars, &b[j], ldb, &c[j], ldc, alpha, beta, nil, m12/12)
			}
			if m12 < m {
				gemmKernel6x32AVX512(k, &a[m12*ars], ars, acs, 6*ars, &b[j], ldb, &c[m12*ldc+j], ldc, alpha, beta, nil, 1)
			}
		}
	}
	n16 := n &^ 15
	for ; j < n16; j += 16 {
		gemmKernel6x16(k, &a[0], ars, acs, 6*ars, &b[j], ldb, &c[j], ldc, alpha, beta, nil, m/6)
	}
	if n16 < n {
		gemmKernel6x8(k, &a[0], ars, acs, 6*ars, &b[n16], ldb, &c[n16], ldc, alpha, beta, nil, m/6)
	}
}

//go:noescape
func gemmKernel6x8(kc int, a *float32, ars, acs, ats int, b *float32, bs int, c *float32, ldc int, alpha, beta float32, bias *float32, tiles int)

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

//go:noescape
func colSumsAVX2(dst, x *float32, rows, ld, cols int)

// colSumsSIMD adds the rows of x (rows x ld) into dst over columns [lo,hi),
// row by row: the multiples of 8 in registers, the rest through addSIMD's
// scalar tail as before (Go may order a scalar add's operands either way,
// which shows in a NaN's payload, so the tail stays in the same function).
func colSumsSIMD(dst, x []float32, rows, ld, lo, hi int) {
	if rows == 0 || hi <= lo {
		return
	}
	_ = x[(rows-1)*ld+hi-1]
	n8 := (hi - lo) &^ 7
	if n8 > 0 {
		d := dst[lo : lo+n8]
		colSumsAVX2(&d[0], &x[lo], rows, ld, n8)
	}
	if n8 == hi-lo {
		return
	}
	d := dst[lo+n8 : hi]
	for r := 0; r < rows; r++ {
		addSIMD(d, d, x[r*ld+lo+n8:r*ld+hi])
	}
}

// addSIMD sets out = a + b (equal lengths).
func addSIMD(out, a, b []float32) {
	n := len(out)
	a, b = a[:n], b[:n]
	n16, n8 := laneSpans(n)
	if n16 > 0 {
		addAVX512(&out[0], &a[0], &b[0], n16)
	}
	if n8 > n16 {
		addAVX2(&out[n16], &a[n16], &b[n16], n8-n16)
	}
	for i := n8; i < n; i++ {
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
	done := 0
	if activeGemm == avx512Gemm {
		// 4 rows at a time, each with lnForwardAVX2's arithmetic; the
		// last rows%4 through lnForwardAVX2.
		if done = rows &^ 3; done > 0 {
			lnForwardAVX512(&out[0], &mean[0], &rstd[0], &inp[0], &weight[0], &bias[0], done, dim, eps, 1/float32(dim))
		}
	}
	if done < rows {
		lnForwardAVX2(&out[done*dim], &mean[done], &rstd[done], &inp[done*dim], &weight[0], &bias[0], rows-done, dim, eps, 1/float32(dim))
	}
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

//go:noescape
func softmaxRowsAVX2(s *float32, tp int, rows int)

//go:noescape
func transpose8AVX2(dst *float32, ldd int, src *float32, lds int, rb, cb int)

// softmaxRowsSIMD: see softmaxRows.
func softmaxRowsSIMD(s []float32, tp, rows int) {
	if tp&7 != 0 || rows == 0 {
		softmaxRowsGo(s, tp, rows)
		return
	}
	_ = s[rows*tp-1]
	softmaxRowsAVX2(&s[0], tp, rows)
}

// transposeSIMD: see transpose.
func transposeSIMD(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	rb, cb := rows/8, cols/8
	if rb > 0 && cb > 0 {
		_ = src[(rb*8-1)*lds+cb*8-1]
		_ = dst[(cb*8-1)*ldd+rb*8-1]
		transpose8AVX2(&dst[0], ldd, &src[0], lds, rb, cb)
	}
	// The rest: rows below the 8-row bands, and columns right of the blocks.
	for r := 0; r < rows; r++ {
		c0 := cb * 8
		if r >= rb*8 {
			c0 = 0
		}
		srow := src[r*lds : r*lds+cols]
		for c := c0; c < cols; c++ {
			dst[c*ldd+r] = srow[c]
		}
	}
}

//go:noescape
func softmaxBackRowsAVX2(p, d *float32, tp, rows int, scale float32)

// softmaxBackRowsSIMD: see softmaxBackRows.
func softmaxBackRowsSIMD(p, d []float32, tp, rows int, scale float32) {
	if tp&7 != 0 || rows == 0 {
		softmaxBackRowsGo(p, d, tp, rows, scale)
		return
	}
	_ = p[rows*tp-1]
	_ = d[rows*tp-1]
	softmaxBackRowsAVX2(&p[0], &d[0], tp, rows, scale)
}

//go:noescape
func fmaLoopAVX2(n int, a, b float32) float32

//go:noescape
func fmaLoopAVX512(n int, a, b float32) float32

// hasAVX512 reports the 16-lane FMA loop's instructions (AVX-512F; the OS
// saves the ZMM state, which x/sys/cpu checks).
func hasAVX512() bool { return hasSIMD() && cpu.X86.HasAVX512F }

// fmaLoops are the FMA loops this machine runs, narrowest first, with
// their lane counts and names.
func fmaLoops() []fmaLoopImpl {
	var out []fmaLoopImpl
	if hasSIMD() {
		out = append(out, fmaLoopImpl{lanes: 8, name: "AVX2", run: fmaLoopAVX2})
	}
	if hasAVX512() {
		out = append(out, fmaLoopImpl{lanes: 16, name: "AVX-512", run: fmaLoopAVX512})
	}
	return out
}
