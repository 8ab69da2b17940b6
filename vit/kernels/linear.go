package kernels

import "fmt"

// LinearForward computes out[r,o] = sum_i inp[r,i]*w[o,i] + bias[o] for r <
// rows, o < outDim. w is [outDim, inDim] (PyTorch layout); bias may be nil.
// out ([rows, outDim]) is overwritten.
func LinearForward(out, inp, w, bias []float32, rows, inDim, outDim int) {
	AllCores.LinearForward(out, inp, w, bias, rows, inDim, outDim)
}

// LinearForward is [LinearForward] on at most k goroutines.
func (k Workers) LinearForward(out, inp, w, bias []float32, rows, inDim, outDim int) {
	k.linearForward(out, inp, w, bias, rows, inDim, outDim, nil)
}

// LinearGeluForward sets pre = inp·wᵀ + bias and act = GELU(pre): the bits
// of [Workers.LinearForward] followed by [Workers.GeluForward], with the
// GELU run on each block of pre the GEMM finishes, while it is in cache.
// act may be pre (inference keeps no pre-activations); otherwise the two
// must not overlap.
func (k Workers) LinearGeluForward(act, pre, inp, w, bias []float32, rows, inDim, outDim int) {
	checkLen("LinearGeluForward", rows*outDim, "act", act)
	checkLen("LinearGeluForward", rows*outDim, "pre", pre)
	k.linearForward(pre, inp, w, bias, rows, inDim, outDim, func(i0, m, j0, n int) {
		blockSpans(i0, m, j0, n, outDim, func(o, l int) { geluForward(act[o:o+l], pre[o:o+l]) })
	})
}

// LinearResidualForward sets out = (inp·wᵀ + bias) + res: the bits of
// [Workers.LinearForward] followed by [AddInPlace](out, res), with the add
// run on each block of out the GEMM finishes, while it is in cache. res must
// not overlap out.
func (k Workers) LinearResidualForward(out, inp, w, bias, res []float32, rows, inDim, outDim int) {
	checkLen("LinearResidualForward", rows*outDim, "out", out)
	checkLen("LinearResidualForward", rows*outDim, "res", res)
	k.linearForward(out, inp, w, bias, rows, inDim, outDim, func(i0, m, j0, n int) {
		blockSpans(i0, m, j0, n, outDim, func(o, l int) { AddInPlace(out[o:o+l], res[o:o+l]) })
	})
}

// blockSpans calls fn(o, l) on the contiguous spans of a finished block of
// a row-major matrix with ld columns (rows i0..i0+m, columns j0..j0+n): the
// whole block at once when it holds whole rows (the default model's
// 64-128-wide rows would otherwise cost an epilogue call each), else row by
// row. The epilogues are element-wise, so the spans change no bit.
func blockSpans(i0, m, j0, n, ld int, fn func(o, l int)) {
	if n == ld {
		fn(i0*ld, m*n)
		return
	}
	for i := i0; i < i0+m; i++ {
		fn(i*ld+j0, n)
	}
}

// linearForward is LinearForward with an epilogue on C's blocks.
func (k Workers) linearForward(out, inp, w, bias []float32, rows, inDim, outDim int, post gemmEpilogue) {
	if bias != nil && len(bias) < outDim {
		panic(fmt.Sprintf("kernels: LinearForward: len(bias)=%d < outDim %d", len(bias), outDim))
	}
	if bias != nil {
		bias = bias[:outDim]
	}
	gemmPost(activeGemm, k, false, true, rows, outDim, inDim, 1, inp, inDim, w, inDim, 0, out, outDim, bias, post)
}

// LinearBackward accumulates the gradients of LinearForward:
// dinp += dout·w, dw += doutᵀ·inp, dbias += column sums of dout.
// Any of dinp, dw, dbias may be nil to skip it.
func LinearBackward(dinp, dw, dbias, dout, inp, w []float32, rows, inDim, outDim int) {
	AllCores.LinearBackward(dinp, dw, dbias, dout, inp, w, rows, inDim, outDim)
}

// LinearBackward is [LinearBackward] on at most k goroutines.
func (k Workers) LinearBackward(dinp, dw, dbias, dout, inp, w []float32, rows, inDim, outDim int) {
	k.linearBackward(1, dinp, dw, dbias, dout, inp, w, rows, inDim, outDim)
}

// LinearBackwardTo is [Workers.LinearBackward] with dinp overwritten rather than
// accumulated (dinp = dout·w; dw and dbias still accumulate), so a fresh
// gradient buffer needs no zeroing first. Its values equal LinearBackward's
// on a zeroed dinp.
func (k Workers) LinearBackwardTo(dinp, dw, dbias, dout, inp, w []float32, rows, inDim, outDim int) {
	k.linearBackward(0, dinp, dw, dbias, dout, inp, w, rows, inDim, outDim)
}

// LinearGeluBackwardTo sets dpre = GELU'(pre)·(dout·w) and accumulates dw
// and dbias as [Workers.LinearBackward] does: the backward pass of a linear
// layer whose input is GELU(pre). Its bits are those of
// [Workers.LinearBackwardTo] into a buffer dact followed by
// [Workers.GeluBackward](dpre, pre, dact) on a zeroed dpre, but the GELU's
// backward runs on each block of dout·w the GEMM finishes, while it is in
// cache, in place: no dact buffer, no zeroing, one pass over memory less.
func (k Workers) LinearGeluBackwardTo(dpre, dw, dbias, dout, inp, w, pre []float32, rows, inDim, outDim int) {
	checkLen("LinearGeluBackwardTo", rows*inDim, "dpre", dpre)
	checkLen("LinearGeluBackwardTo", rows*inDim, "pre", pre)
	gemmPost(activeGemm, k, false, false, rows, inDim, outDim, 1, dout, outDim, w, inDim, 0, dpre, inDim, nil, func(i0, m, j0, n int) {
		// GeluBackward accumulates: run it into a zeroed segment, as on the
		// zeroed dpre of the unfused pair, and copy the segment back.
		pt := getBuf(geluBackSegment)
		acc := *pt
		blockSpans(i0, m, j0, n, inDim, func(o, l int) {
			for s := 0; s < l; s += len(acc) {
				p, sl := o+s, min(len(acc), l-s)
				t := acc[:sl]
				clear(t)
				geluBackward(t, pre[p:p+sl], dpre[p:p+sl])
				copy(dpre[p:p+sl], t)
			}
		})
		putBuf(pt)
	})
	k.linearBackward(0, nil, dw, dbias, dout, inp, w, rows, inDim, outDim)
}

// geluBackSegment is the length of LinearGeluBackwardTo's zeroed segments:
// 8 KB, in L1 beside the block's rows.
const geluBackSegment = 2048

// linearBackward: dinp = dout·w + beta*dinp.
func (k Workers) linearBackward(beta float32, dinp, dw, dbias, dout, inp, w []float32, rows, inDim, outDim int) {
	if dinp != nil {
		gemm(activeGemm, k, false, false, rows, inDim, outDim, 1, dout, outDim, w, inDim, beta, dinp, inDim, nil)
	}
	if dw != nil {
		gemm(activeGemm, k, true, false, outDim, inDim, rows, 1, dout, outDim, inp, inDim, 1, dw, inDim, nil)
	}
	if dbias != nil {
		checkLen("LinearBackward", outDim, "dbias", dbias)
		checkLen("LinearBackward", rows*outDim, "dout", dout)
		colSums(k, dbias[:outDim], dout, rows, outDim)
	}
}

// colSums adds the column sums of the rows×cols matrix x to dst, each column
// summed over rows in order (parallel over columns only).
func colSums(k Workers, dst, x []float32, rows, cols int) {
	body := func(lo, hi int) {
		if useSIMD {
			colSumsSIMD(dst, x, rows, cols, lo, hi)
			return
		}
		d := dst[lo:hi]
		for r := 0; r < rows; r++ {
			addGo(d, d, x[r*cols+lo:r*cols+hi])
		}
	}
	if rows*cols < 64*1024 {
		body(0, cols)
		return
	}
	parallelChunks(k, cols, 32, body)
}
