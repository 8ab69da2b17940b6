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
	if bias != nil && len(bias) < outDim {
		panic(fmt.Sprintf("kernels: LinearForward: len(bias)=%d < outDim %d", len(bias), outDim))
	}
	if bias == nil {
		gemm(activeGemm, k, false, true, rows, outDim, inDim, 1, inp, inDim, w, inDim, 0, out, outDim, nil)
		return
	}
	gemm(activeGemm, k, false, true, rows, outDim, inDim, 1, inp, inDim, w, inDim, 0, out, outDim, bias[:outDim])
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
		d := dst[lo:hi]
		for r := 0; r < rows; r++ {
			src := x[r*cols+lo : r*cols+hi]
			if useSIMD {
				addSIMD(d, d, src)
			} else {
				addGo(d, d, src)
			}
		}
	}
	if rows*cols < 64*1024 {
		body(0, cols)
		return
	}
	parallelChunks(k, cols, 32, body)
}
