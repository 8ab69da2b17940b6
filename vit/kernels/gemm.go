package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
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
	AllCores.Gemm(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// Gemm is [Gemm] on at most w goroutines.
func (w Workers) Gemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	gemm(activeGemm, w, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, nil)
}

// microKernel computes tiles stacked down the rows of C. For each tile t <
// tiles it forms the mr×nr block acc[i][j] = sum_{p<kc} A(i,p)*B(p,j),
// summing p in increasing order, with A(i,p) = a[t*ats + i*ars + p*acs] and
// B(p,j) = b[p*bs + j], and stores
//
//	C[(t*mr+i)*ldc + j] = alpha*acc + bias[j] + beta*C[...]
//
// (bias may be nil; when beta == 0, C is not read). Every element of C gets
// the same arithmetic whatever its position, so results do not depend on how
// the work is tiled or split across goroutines.
type microKernel func(kc int, a []float32, ars, acs, ats int, b []float32, bs int, c []float32, ldc int, alpha, beta float32, bias []float32, tiles int)

// gemmImpl describes one GEMM implementation: its micro-kernel, register
// tile (mr×nr), cache blocking (kc along k, mc rows and nc columns of C per
// job), and whether the kernel reads unpacked operands efficiently (then
// only edge panels are packed). None of the fields but kc changes the
// arithmetic of an element of C.
type gemmImpl struct {
	name       string
	mr, nr     int
	kc, mc, nc int
	direct     bool
	directBLd  int // with direct: also read op(B) in place, however long, when ldb <= directBLd
	parMinWork int // m*n*k below which the GEMM stays on one goroutine (at least gemmParallelMinWork)
	kern       microKernel
}

// gemmParallelMinWork is the m*n*k below which GEMM stays on one goroutine.
const gemmParallelMinWork = 64 * 1024

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

// gemm is the blocked driver shared by all implementations. If bias is
// non-nil (length >= n), C = alpha*op(A)*op(B) + bias (broadcast over rows)
// and beta is ignored.
//
// Work is split into jobs, each an mc×nc tile of C computed over the whole
// of k (in kc blocks, in order), and jobs are spread over goroutines; so
// each element of C is summed in an order fixed by the shapes alone.
func gemm(im *gemmImpl, wk Workers, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32) {
	gemmPost(im, wk, transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias, nil)
}

// gemmEpilogue is element-wise work on a finished block of C (rows
// i0..i0+rows, columns j0..j0+cols), run by the goroutine that computed it
// while the block is still in its cache.
type gemmEpilogue func(i0, rows, j0, cols int)

// gemmPost is gemm that runs post (when non-nil) on every block of C once
// all of k is summed into it; the blocks cover C once.
func gemmPost(im *gemmImpl, wk Workers, transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int, bias []float32, post gemmEpilogue) {
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
	if bias != nil {
		if len(bias) < n {
			panic(fmt.Sprintf("kernels: Linear: len(bias)=%d < %d", len(bias), n))
		}
		beta = 0
	}
	if k == 0 || alpha == 0 {
		if bias != nil {
			for i := 0; i < m; i++ {
				copy(c[i*ldc:i*ldc+n], bias[:n])
			}
		} else {
			scaleMatrix(m, n, beta, c, ldc)
		}
		if post != nil {
			post(0, m, 0, n)
		}
		return
	}

	mr, nr, kcMax := im.mr, im.nr, im.kc
	npad := (n + nr - 1) / nr * nr
	nSliv := npad / nr
	fullSliv := n / nr
	parallel := m*n*k >= max(gemmParallelMinWork, im.parMinWork)

	// op(B) panels. Packed layout: k-block starting at p0 (length kc)
	// occupies packedB[p0*w : (p0+kc)*w], sliver js of it starts at
	// js*kc*nr; w is npad, or nr when only the partial last sliver is packed
	// (direct B: the kernel reads full slivers straight from b).
	// B is read in place unless it is big (its rows are ldb apart, and a
	// packed panel streams better once B no longer fits in L2), or unless
	// its rows are far apart for an implementation that reads narrow B in
	// place at any k (directBLd).
	directB := im.direct && !transB && (k*n < 256*1024 || ldb <= im.directBLd)
	var pb *[]float32
	var packedB []float32
	// With packChunks > 0, op(B) is packed by the goroutines that run the
	// jobs, in chunks of packChunkSlivers slivers (packOne) handed out
	// before the first job: one fork-join per call instead of two (a
	// goroutine wake-up is tens of µs on a VM; AVX-512 forward 3200×192×192
	// on two goroutines: 344 -> 362 GFLOP/s, 3200×576×192 +2%).
	packChunks := 0
	var packOne func(i int)
	w := npad
	firstPacked := 0
	if directB {
		w, firstPacked = nr, fullSliv
	}
	if firstPacked < nSliv {
		pb = getBuf(k * w)
		packedB = *pb
		packB := func(lo, hi int) {
			for p0 := 0; p0 < k; p0 += kcMax {
				kc := min(kcMax, k-p0)
				base := packedB[p0*w:]
				for js := lo; js < hi; js++ {
					o := (js - firstPacked) * kc * nr
					packBSliver(base[o:o+kc*nr], transB, b, ldb, p0, kc, js*nr, nr, n)
				}
			}
		}
		if parallel && (nSliv-firstPacked)*k*nr >= 32*1024 {
			packChunks = ceilDiv(nSliv-firstPacked, packChunkSlivers)
			packOne = func(i int) {
				lo := firstPacked + i*packChunkSlivers
				packB(lo, min(lo+packChunkSlivers, nSliv))
			}
		} else {
			packB(firstPacked, nSliv)
		}
	}
	bPanel := func(p0, kc, js int) ([]float32, int) {
		if js < firstPacked {
			return b[p0*ldb+js*nr:], ldb
		}
		o := p0*w + (js-firstPacked)*kc*nr
		return packedB[o : o+kc*nr], nr
	}

	// Work units: one row sliver (mr rows) of one nc-wide column block of C,
	// numbered row block (mc rows) by row block, and column block by column
	// block within one. Each goroutine takes a contiguous range of units
	// (balanced to within one sliver) and works through it in jobs of up to
	// mc rows. Sliver and column-block positions, and the kc blocking, depend
	// only on the shapes, so every element of C gets the same arithmetic
	// whatever the split or the order. Row blocks outermost: when n > nc
	// (qkv, fc1), the jobs of a row block read the same mc rows of A, which
	// then come from L2 after the first instead of from memory once per
	// column block (12800×576×192 and ×768×192 on both cores side by side:
	// +9-11%).
	mc, nc := im.mc, im.nc
	rowsPerBlock := max(1, mc/mr) // slivers in a full row block
	// A is read in place when the kernel allows it (measured faster than
	// packing for every shape the model uses, transposed or not).
	aPacked := !im.direct
	slivers := ceilDiv(m, mr)
	nBlocks := ceilDiv(n, nc)
	units := slivers * nBlocks
	runJobs := func(lo, hi int) {
		// One pooled buffer holds the A panels, the edge tile and the padded
		// bias: arrays here would escape to the heap (the kernel is a func
		// value) and cost an allocation and a clear per call.
		pa := getBuf(mc*kcMax + mr*nr + nr)
		packedA := (*pa)[:mc*kcMax]
		tile := (*pa)[mc*kcMax : mc*kcMax+mr*nr]
		biasPad := (*pa)[mc*kcMax+mr*nr:]
		for u := lo; u < hi; {
			rb := u / (rowsPerBlock * nBlocks)
			rem := u - rb*rowsPerBlock*nBlocks
			inBlock := min(rowsPerBlock, slivers-rb*rowsPerBlock) // the last row block may be short
			jb, s0 := rem/inBlock, rb*rowsPerBlock+rem%inBlock
			run := min(hi-u, inBlock-rem%inBlock)
			u += run
			i0, j0 := s0*mr, jb*nc
			mLen, nLen := min(run*mr, m-i0), min(nc, n-j0)
			full := mLen / mr // full row slivers in this job
			for p0 := 0; p0 < k; p0 += kcMax {
				kc := min(kcMax, k-p0)
				first := p0 == 0
				betaNow := float32(1)
				var biasNow []float32
				if first {
					betaNow = beta
					if bias != nil {
						biasNow = bias[j0:n]
					}
				}
				// A panels for the full slivers, and the partial one (packed).
				var av []float32
				var ars, acs, ats int
				switch {
				case aPacked:
					packABlock(packedA, transA, a, lda, i0, mLen, p0, kc, mr)
					av, ars, acs, ats = packedA, 1, mr, mr*kc
				case transA:
					av, ars, acs, ats = a[p0*lda+i0:], 1, lda, mr
					if full*mr < mLen {
						packABlock(packedA, transA, a, lda, i0+full*mr, mLen-full*mr, p0, kc, mr)
					}
				default:
					av, ars, acs, ats = a[i0*lda+p0:], lda, 1, mr*lda
					if full*mr < mLen {
						packABlock(packedA, transA, a, lda, i0+full*mr, mLen-full*mr, p0, kc, mr)
					}
				}
				for jj := 0; jj < nLen; jj += nr {
					js := (j0 + jj) / nr
					bv, bs := bPanel(p0, kc, js)
					nn := min(nr, nLen-jj)
					var bj []float32
					if biasNow != nil {
						bj = biasNow[jj:]
					}
					if nn == nr && full > 0 {
						im.kern(kc, av, ars, acs, ats, bv, bs, c[i0*ldc+j0+jj:], ldc, alpha, betaNow, bj, full)
					}
					for ii := 0; ii < mLen; ii += mr {
						mm := min(mr, mLen-ii)
						if nn == nr && mm == mr {
							continue // done above
						}
						// Edge tile: run the kernel on a whole mr×nr tile in a
						// buffer holding the valid part of C (when it is read),
						// with the bias padded to nr, and copy the valid part
						// back: every element gets the kernel's own epilogue
						// (the same arithmetic as inside the matrix).
						t := tile
						coff := (i0+ii)*ldc + j0 + jj
						if betaNow != 0 {
							for i := 0; i < mm; i++ {
								copy(t[i*nr:i*nr+nn], c[coff+i*ldc:coff+i*ldc+nn])
							}
						}
						bt := bj
						if bj != nil && len(bj) < nr {
							bt = biasPad
							copy(bt, bj[:nn])
						}
						if ii < full*mr {
							im.kern(kc, av[(ii/mr)*ats:], ars, acs, ats, bv, bs, t, nr, alpha, betaNow, bt, 1)
						} else if !aPacked {
							im.kern(kc, packedA, 1, mr, mr*kc, bv, bs, t, nr, alpha, betaNow, bt, 1)
						} else {
							im.kern(kc, packedA[ii*kc:], 1, mr, mr*kc, bv, bs, t, nr, alpha, betaNow, bt, 1)
						}
						for i := 0; i < mm; i++ {
							copy(c[coff+i*ldc:coff+i*ldc+nn], t[i*nr:i*nr+nn])
						}
					}
				}
			}
			if post != nil {
				post(i0, mLen, j0, nLen)
			}
		}
		putBuf(pa)
	}
	if packChunks > 0 {
		// Items 0..packChunks-1 pack B; the job chunks after them wait
		// until every packing chunk is done (they are all handed out
		// first, so the wait is for at most one chunk per goroutine).
		w := wk.limit()
		per := ceilDiv(units, ceilDiv(ceilDiv(units, rowsPerBlock), w)*w)
		var packed atomic.Int64
		parallelChunks(wk, packChunks+ceilDiv(units, per), 1, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				if i < packChunks {
					func() {
						defer packed.Add(1) // also on a panic: the others must not wait forever
						packOne(i)
					}()
					continue
				}
				for packed.Load() < int64(packChunks) {
					runtime.Gosched()
				}
				u := (i - packChunks) * per
				runJobs(u, min(u+per, units))
			}
		})
	} else if parallel && units > 1 {
		// Chunks of at most one job (mc/mr slivers), as many as a multiple
		// of the goroutines so that they end together (a weight gradient has
		// few jobs: small m×n, long k). Chunks only decide who computes
		// what, never the arithmetic.
		w := wk.limit()
		chunks := ceilDiv(ceilDiv(units, rowsPerBlock), w) * w
		parallelChunks(wk, units, ceilDiv(units, chunks), runJobs)
	} else {
		runJobs(0, units)
	}
	if pb != nil {
		putBuf(pb)
	}
}

// packChunkSlivers is the number of B slivers one goroutine packs at a time.
const packChunkSlivers = 4

func ceilDiv(a, b int) int { return (a + b - 1) / b }

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
	// The sliver is the transpose of a jn×kc block of b (8×8 blocks in
	// registers on the SIMD path, not one strided store per element).
	transpose(dst, nr, b[j0*ldb+p0:], ldb, jn, kc)
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
			// The transpose of a rows×kc block of a (see packBSliver).
			transpose(d, mr, a[r0*lda+p0:], lda, rows, kc)
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
