package kernels

import "math"

// LayerNormForward normalises each row of inp ([rows, dim]) over its last
// dimension: out = (x-mean)*rstd*weight + bias, with rstd = 1/sqrt(var+eps)
// and the biased variance. It saves mean[r] and rstd[r] for the backward
// pass. weight and bias may be nil (meaning 1 and 0).
func LayerNormForward(out, mean, rstd, inp, weight, bias []float32, rows, dim int, eps float32) {
	AllCores.LayerNormForward(out, mean, rstd, inp, weight, bias, rows, dim, eps)
}

// LayerNormForward is [LayerNormForward] on at most w goroutines.
func (w Workers) LayerNormForward(out, mean, rstd, inp, weight, bias []float32, rows, dim int, eps float32) {
	checkLen("LayerNormForward", rows*dim, "out", out)
	checkLen("LayerNormForward", rows*dim, "inp", inp)
	checkLen("LayerNormForward", rows, "mean", mean)
	checkLen("LayerNormForward", rows, "rstd", rstd)
	if weight != nil {
		checkLen("LayerNormForward", dim, "weight", weight)
		weight = weight[:dim]
	}
	if bias != nil {
		checkLen("LayerNormForward", dim, "bias", bias)
		bias = bias[:dim]
	}
	if dim == 0 {
		return
	}
	simd := useSIMD && lnSIMDOK(dim, weight, bias, true)
	body := func(lo, hi int) {
		if simd {
			if hi > lo {
				lnForwardSIMD(out[lo*dim:hi*dim], mean[lo:hi], rstd[lo:hi], inp[lo*dim:hi*dim], weight, bias, hi-lo, dim, eps)
			}
			return
		}
		for r := lo; r < hi; r++ {
			x := inp[r*dim : (r+1)*dim]
			o := out[r*dim : (r+1)*dim]
			var s float32
			for _, v := range x {
				s += v
			}
			m := s / float32(dim)
			var v2 float32
			for _, v := range x {
				d := v - m
				v2 += d * d
			}
			rs := float32(1 / math.Sqrt(float64(v2/float32(dim)+eps)))
			mean[r], rstd[r] = m, rs
			switch {
			case weight != nil && bias != nil:
				for i, v := range x {
					o[i] = (v-m)*rs*weight[i] + bias[i]
				}
			case weight != nil:
				for i, v := range x {
					o[i] = (v - m) * rs * weight[i]
				}
			case bias != nil:
				for i, v := range x {
					o[i] = (v-m)*rs + bias[i]
				}
			default:
				for i, v := range x {
					o[i] = (v - m) * rs
				}
			}
		}
	}
	if rows*dim < 32*1024 {
		body(0, rows)
		return
	}
	parallelChunks(w, rows, 64, body)
}

// LayerNormBackward accumulates the gradients of LayerNormForward:
// dinp += dL/dinp, dweight += sum_r dout*norm, dbias += sum_r dout, where
// norm = (inp-mean)*rstd. Any of dinp, dweight, dbias may be nil to skip
// it; weight may be nil (meaning 1).
func LayerNormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd []float32, rows, dim int) {
	AllCores.LayerNormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd, rows, dim)
}

// LayerNormBackward is [LayerNormBackward] on at most w goroutines.
func (w Workers) LayerNormBackward(dinp, dweight, dbias, dout, inp, weight, mean, rstd []float32, rows, dim int) {
	n := rows * dim
	checkLen("LayerNormBackward", n, "dout", dout)
	checkLen("LayerNormBackward", n, "inp", inp)
	checkLen("LayerNormBackward", rows, "mean", mean)
	checkLen("LayerNormBackward", rows, "rstd", rstd)
	if weight != nil {
		checkLen("LayerNormBackward", dim, "weight", weight)
		weight = weight[:dim]
	}
	if dim == 0 || rows == 0 {
		return
	}
	big := n >= 32*1024
	if dinp != nil {
		checkLen("LayerNormBackward", n, "dinp", dinp)
		simd := useSIMD && lnSIMDOK(dim, weight, nil, false)
		body := func(lo, hi int) {
			if simd {
				if hi > lo {
					lnBackwardSIMD(dinp[lo*dim:hi*dim], dout[lo*dim:hi*dim], inp[lo*dim:hi*dim], weight, mean[lo:hi], rstd[lo:hi], hi-lo, dim)
				}
				return
			}
			var buf [256]float32
			var dnorm []float32
			if dim <= len(buf) {
				dnorm = buf[:dim]
			} else {
				dnorm = make([]float32, dim)
			}
			for r := lo; r < hi; r++ {
				x := inp[r*dim : (r+1)*dim]
				g := dout[r*dim : (r+1)*dim]
				di := dinp[r*dim : (r+1)*dim]
				m, rs := mean[r], rstd[r]
				var sd, sdn float32
				for i, v := range x {
					dn := g[i]
					if weight != nil {
						dn *= weight[i]
					}
					dnorm[i] = dn
					sd += dn
					sdn += dn * ((v - m) * rs)
				}
				sd /= float32(dim)
				sdn /= float32(dim)
				for i, v := range x {
					di[i] += (dnorm[i] - sd - (v-m)*rs*sdn) * rs
				}
			}
		}
		if big {
			parallelChunks(w, rows, 64, body)
		} else {
			body(0, rows)
		}
	}
	if dweight == nil && dbias == nil {
		return
	}
	if dweight != nil {
		checkLen("LayerNormBackward", dim, "dweight", dweight)
	}
	if dbias != nil {
		checkLen("LayerNormBackward", dim, "dbias", dbias)
	}
	// Parameter gradients: parallel over columns, rows summed in order.
	if useSIMD && dim&7 == 0 {
		chunks := func(lo, hi int) {
			if hi > lo {
				lnParamsSIMD(dweight, dbias, dout, inp, mean, rstd, rows, dim, lo*8, hi*8)
			}
		}
		if big {
			parallelChunks(w, dim/8, 2, chunks)
		} else {
			chunks(0, dim/8)
		}
		return
	}
	cols := func(lo, hi int) {
		for r := 0; r < rows; r++ {
			x := inp[r*dim+lo : r*dim+hi]
			g := dout[r*dim+lo : r*dim+hi]
			m, rs := mean[r], rstd[r]
			if dbias != nil {
				db := dbias[lo:hi]
				for i, v := range g {
					db[i] += v
				}
			}
			if dweight != nil {
				dw := dweight[lo:hi]
				for i, v := range x {
					dw[i] += g[i] * ((v - m) * rs)
				}
			}
		}
	}
	if big {
		parallelChunks(w, dim, 16, cols)
	} else {
		cols(0, dim)
	}
}
