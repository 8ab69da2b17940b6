package kernels

import "math"

// rowsGemm computes, for i < m and j < n,
//
//	c[i*ldc+j] = alpha * sum_{p<k} a[i*ars+p*acs]*b[p*ldb+j] + (acc ? c[i*ldc+j] : 0)
//
// summing p in increasing order. A is addressed through a row stride and a
// column stride, so a transposed A costs nothing. It is the building block
// of the attention kernels (small matrices that fit in L1; no packing).
// m, n, k must be positive. tmp is scratch of 6*(k+n) floats (nil: allocated
// when needed).
func rowsGemm(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, alpha float32, acc bool, tmp []float32) {
	if useSIMD {
		rowsGemmSIMD(m, n, k, a, ars, acs, b, ldb, c, ldc, alpha, acc, tmp)
		return
	}
	rowsGemmGo(m, n, k, a, ars, acs, b, ldb, c, ldc, alpha, acc)
}

func rowsGemmGo(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, alpha float32, acc bool) {
	var buf [64]float32
	for i := 0; i < m; i++ {
		crow := c[i*ldc : i*ldc+n]
		for j0 := 0; j0 < n; j0 += len(buf) {
			j1 := min(n, j0+len(buf))
			t := buf[:j1-j0]
			clear(t)
			for p := 0; p < k; p++ {
				axpyGo(a[i*ars+p*acs], b[p*ldb+j0:p*ldb+j1], t)
			}
			cc := crow[j0:j1]
			if acc {
				for j, v := range t {
					cc[j] += alpha * v
				}
			} else {
				for j, v := range t {
					cc[j] = alpha * v
				}
			}
		}
	}
}

// expShift sets x[i] = exp(x[i]-shift), to float32 accuracy (a few ulp).
func expShift(x []float32, shift float32) {
	if useSIMD {
		expShiftSIMD(x, shift)
		return
	}
	expShiftGo(x, shift)
}

func expShiftGo(x []float32, shift float32) {
	for i, v := range x {
		x[i] = expf(v - shift)
	}
}

// expf is a float32 exp (Cephes expf: Cody-Waite range reduction and a
// degree-5 polynomial, about 1 ulp), like the AVX2 kernel: the argument is
// clamped to at most 88.3 and below -87.3 the result is 0.
func expf(x float32) float32 {
	if x != x {
		return x
	}
	if x < -87.3 {
		return 0
	}
	x = min(x, 88.3)
	n := float32(math.RoundToEven(float64(x * 1.44269504088896341)))
	r := x - n*0.693359375
	r -= n * -2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	p = p*r*r + r + 1
	return p * math.Float32frombits(uint32(int32(n)+127)<<23)
}

// softmaxRows applies a softmax in place to each of rows rows of tp floats:
// s = exp(s-max)/sum(exp(s-max)). Padding lanes set to -Inf become 0.
func softmaxRows(s []float32, tp, rows int) {
	if useSIMD {
		softmaxRowsSIMD(s, tp, rows)
		return
	}
	softmaxRowsGo(s, tp, rows)
}

func softmaxRowsGo(s []float32, tp, rows int) {
	for r := 0; r < rows; r++ {
		row := s[r*tp : (r+1)*tp]
		mx := row[0]
		for _, v := range row[1:] {
			if v > mx {
				mx = v
			}
		}
		var sum float32
		for i, v := range row {
			e := expf(v - mx)
			row[i] = e
			sum += e
		}
		inv := 1 / sum
		for i := range row {
			row[i] *= inv
		}
	}
}

// transpose sets dst[c*ldd+r] = src[r*lds+c] for r < rows, c < cols.
func transpose(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	if useSIMD {
		transposeSIMD(dst, ldd, src, lds, rows, cols)
		return
	}
	transposeGo(dst, ldd, src, lds, rows, cols)
}

func transposeGo(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	r := 0
	for ; r+4 <= rows; r += 4 {
		r0 := src[r*lds : r*lds+cols]
		r1 := src[(r+1)*lds : (r+1)*lds+cols]
		r2 := src[(r+2)*lds : (r+2)*lds+cols]
		r3 := src[(r+3)*lds : (r+3)*lds+cols]
		for c := range r0 {
			o := dst[c*ldd+r : c*ldd+r+4 : c*ldd+r+4]
			o[0], o[1], o[2], o[3] = r0[c], r1[c], r2[c], r3[c]
		}
	}
	for ; r < rows; r++ {
		row := src[r*lds : r*lds+cols]
		for c, v := range row {
			dst[c*ldd+r] = v
		}
	}
}

// softmaxBackRows is the softmax backward on rows of tp floats, in place in
// d: d = p∘(d - sum(p∘d))*scale (padding lanes with p = 0 stay 0).
func softmaxBackRows(p, d []float32, tp, rows int, scale float32) {
	if useSIMD {
		softmaxBackRowsSIMD(p, d, tp, rows, scale)
		return
	}
	softmaxBackRowsGo(p, d, tp, rows, scale)
}

func softmaxBackRowsGo(p, d []float32, tp, rows int, scale float32) {
	for r := 0; r < rows; r++ {
		pr := p[r*tp : (r+1)*tp]
		dr := d[r*tp : (r+1)*tp]
		var s float32
		for j, v := range pr {
			s += v * dr[j]
		}
		for j, v := range pr {
			dr[j] = v * (dr[j] - s) * scale
		}
	}
}
