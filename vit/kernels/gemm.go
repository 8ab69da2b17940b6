package kernels

import (
	"fmt"
	"sync"
)

// Gemm computes C = alpha*op(A)*op(B) + beta*C, where op(A) is m×k and op(B)
// is k×n. With transA, A is stored k×m (row-major, row stride lda) and op(A)
// is its transpose; otherwise A is stored m×k. Likewise for B. C is m×n with
// row stride ldc. When beta == 0 the old contents of C are ignored (even NaN).
//
// Gemm is deterministic: each element of C is summed in an order that depends
// only on the shapes, never on the number of goroutines. Large problems are
// split across GOMAXPROCS goroutines by tiles of C.
func Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(activeGemm, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// microKernel multiplies packed A slivers (kc×mr each, element (i,p) at
// a[t*mr*kc+p*mr+i] for tile t) by one packed B sliver (kc×nr, element (p,j)
// at b[p*nr+j]) and stores C[(t*mr+i)*ldc+j] = alpha*acc + beta*C for the
// given number of full mr×nr tiles stacked down the rows of C. When beta ==
// 0, C is not read.
type microKernel func(kc int, a, b, c []float32, ldc int, alpha, beta float32, tiles int)

// gemmImpl describes one GEMM implementation: its micro-kernel, register
// tile (mr×nr) and cache blocking (kc along k, mc rows and nc columns of C
// per job).
type gemmImpl struct {
	name       string
	mr, nr     int
	kc, mc, nc int
	kern       microKernel
}

// gemmParallelMinWork is the m*n*k below which GEMM stays on one goroutine.
const gemmParallelMinWork = 96 * 1024

func checkMatrix(name string, s []float32, rows, cols, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic(fmt.Sprintf("kernels: Gemm: ld%s=%d < %d columns", name, ld, cols))
	}
	if need := (rows-1)*ld + cols; len(s) < need {
		panic(fmt.Sprintf("kernels: Gemm: len(%s)=%d < %d needed for %dx%d with stride %d", name, len(s), need, rows, cols, ld))
	}
}

// scaleMatrix sets C = beta*C (C = 0 when beta == 0).
func scaleMatrix(m, n int, beta float32, c []float32, ldc int) {
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
		} else if beta != 1 {
			for j := range row {
				row[j] *= beta
			}
		}
	}
}

// gemm is the blocked, packed driver shared by all implementations. If bias
// is non-nil (length n), C = alpha*op(A)*op(B) + bias (broadcast over rows)
// and beta is ignored.
func gemm(im *gemmImpl, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("kernels: Gemm: negative size m=%d n=%d k=%d", m, n, k))
	}
	if m == 0 || n == 0 {
		return
	}
	if transA {
		checkMatrix("a", a, k, m, lda)
	} else {
		checkMatrix("a", a, m, k, lda)
	}
	if transB {
		checkMatrix("b", b, n, k, ldb)
	} else {
		checkMatrix("b", b, k, n, ldb)
	}
	checkMatrix("c", c, m, n, ldc)
	if bias != nil && len(bias) < n {
		panic(fmt.Sprintf("kernels: Linear: len(bias)=%d < %d", len(bias), n))
	}
	if k == 0 || alpha == 0 {
		if bias != nil {
			for i := 0; i < m; i++ {
				copy(c[i*ldc:i*ldc+n], bias[:n])
			}
			return
		}
		scaleMatrix(m, n, beta, c, ldc)
		return
	}

	mr, nr, kcMax := im.mr, im.nr, im.kc
	npad := (n + nr - 1) / nr * nr
	nSliv := npad / nr
	pb := getBuf(k * npad)
	packedB := *pb

	work := m * n * k
	parallel := work >= gemmParallelMinWork

	// Pack all of op(B): k-block pc (starting at p0, length kc) occupies
	// packedB[p0*npad:(p0+kc)*npad], sliver js of it starts at js*kc*nr.
	packB := func(lo, hi int) {
		for p0 := 0; p0 < k; p0 += kcMax {
			kc := min(kcMax, k-p0)
			base := packedB[p0*npad:]
			for js := lo; js < hi; js++ {
				packBSliver(base[js*kc*nr:(js+1)*kc*nr], transB, b, ldb, p0, kc, js*nr, nr, n)
			}
		}
	}
	if parallel && k*npad >= 32*1024 {
		Parallel(nSliv, 4, packB)
	} else {
		packB(0, nSliv)
	}

	mc, nc := im.mc, im.nc
	mBlocks := (m + mc - 1) / mc
	nBlocks := (n + nc - 1) / nc
	jobs := mBlocks * nBlocks
	runJobs := func(lo, hi int) {
		pa := getBuf(mc * kcMax)
		packedA := *pa
		var tile [16 * 32]float32
		for job := lo; job < hi; job++ {
			ib, jb := job%mBlocks, job/mBlocks
			i0, j0 := ib*mc, jb*nc
			mLen, nLen := min(mc, m-i0), min(nc, n-j0)
			betaNow := beta
			if bias != nil {
				for i := i0; i < i0+mLen; i++ {
					copy(c[i*ldc+j0:i*ldc+j0+nLen], bias[j0:j0+nLen])
				}
				betaNow = 1
			}
			for p0 := 0; p0 < k; p0 += kcMax {
				kc := min(kcMax, k-p0)
				packABlock(packedA, transA, a, lda, i0, mLen, p0, kc, mr)
				bBase := packedB[p0*npad:]
				for jj := 0; jj < nLen; jj += nr {
					js := (j0 + jj) / nr
					bs := bBase[js*kc*nr : (js+1)*kc*nr]
					nn := min(nr, nLen-jj)
					ii := 0
					if nn == nr {
						// All full tiles of this column strip in one call.
						if full := mLen / mr; full > 0 {
							im.kern(kc, packedA[:full*mr*kc], bs, c[i0*ldc+j0+jj:], ldc, alpha, betaNow, full)
							ii = full * mr
						}
					}
					for ; ii < mLen; ii += mr {
						as := packedA[ii*kc : (ii+mr)*kc]
						mm := min(mr, mLen-ii)
						coff := (i0+ii)*ldc + j0 + jj
						// Edge tile: compute the full tile into a buffer, then
						// merge the valid part.
						t := tile[:mr*nr]
						im.kern(kc, as, bs, t, nr, 1, 0, 1)
						for i := 0; i < mm; i++ {
							crow := c[coff+i*ldc : coff+i*ldc+nn]
							trow := t[i*nr : i*nr+nn]
							if betaNow == 0 {
								for j := range crow {
									crow[j] = alpha * trow[j]
								}
							} else {
								for j := range crow {
									crow[j] = alpha*trow[j] + betaNow*crow[j]
								}
							}
						}
					}
				}
				betaNow = 1
			}
		}
		putBuf(pa)
	}
	if parallel && jobs > 1 {
		parallelN(jobs, workers(jobs, 1), runJobs)
	} else {
		runJobs(0, jobs)
	}
	putBuf(pb)
}

// packBSliver packs columns j0..j0+nr of rows p0..p0+kc of op(B) into dst
// (element (p,j) at dst[p*nr+j]), zero-padding columns beyond n.
func packBSliver(dst []float32, transB bool, b []float32, ldb, p0, kc, j0, nr, n int) {
	jn := min(nr, n-j0)
	if !transB {
		for p := 0; p < kc; p++ {
			off := (p0+p)*ldb + j0
			d := dst[p*nr : p*nr+nr]
			copy(d, b[off:off+jn])
			clear(d[jn:])
		}
		return
	}
	for j := 0; j < jn; j++ {
		off := (j0+j)*ldb + p0
		src := b[off : off+kc]
		for p, v := range src {
			dst[p*nr+j] = v
		}
	}
	if jn < nr {
		for p := 0; p < kc; p++ {
			clear(dst[p*nr+jn : p*nr+nr])
		}
	}
}

// packABlock packs rows i0..i0+mLen, columns p0..p0+kc of op(A) into slivers
// of mr rows: sliver s starts at dst[s*mr*kc], element (i,p) at [p*mr+i];
// rows beyond mLen are zero.
func packABlock(dst []float32, transA bool, a []float32, lda, i0, mLen, p0, kc, mr int) {
	for s := 0; s*mr < mLen; s++ {
		d := dst[s*mr*kc : (s+1)*mr*kc]
		rows := min(mr, mLen-s*mr)
		r0 := i0 + s*mr
		if !transA {
			for ii := 0; ii < rows; ii++ {
				off := (r0+ii)*lda + p0
				src := a[off : off+kc]
				for p, v := range src {
					d[p*mr+ii] = v
				}
			}
		} else {
			for p := 0; p < kc; p++ {
				off := (p0+p)*lda + r0
				copy(d[p*mr:p*mr+rows], a[off:off+rows])
			}
		}
		if rows < mr {
			for p := 0; p < kc; p++ {
				clear(d[p*mr+rows : p*mr+mr])
			}
		}
	}
}

// bufPool recycles packing buffers.
var bufPool sync.Pool

func getBuf(n int) *[]float32 {
	if p, ok := bufPool.Get().(*[]float32); ok {
		if cap(*p) >= n {
			*p = (*p)[:n]
			return p
		}
	}
	s := make([]float32, n, n+n/4+64)
	return &s
}

func putBuf(p *[]float32) { bufPool.Put(p) }
