package kernels

import "math"

// rowsGemm computes, for i < m and j < n,
//
//	c[i*ldc+j] = alpha * sum_{p<k} a[i*ars+p*acs]*b[p*ldb+j] + (acc ? c[i*ldc+j] : 0)
//
// summing p in increasing order. A is addressed through a row stride and a
// column stride, so a transposed A costs nothing. It is the building block
// of the attention kernels (small matrices that fit in L1; no packing).
// m, n, k must be positive.
func rowsGemm(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, alpha float32, acc bool) {
	if useSIMD {
		rowsGemmSIMD(m, n, k, a, ars, acs, b, ldb, c, ldc, alpha, acc)
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
// degree-5 polynomial, about 1 ulp), with the argument clamped to
// [-87.3, 88.3] like the AVX2 kernel.
func expf(x float32) float32 {
	if x != x {
		return x
	}
	x = max(min(x, 88.3), -87.3)
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
