//go:build amd64 && !purego

package kernels

//go:noescape
func adamWStepAVX2(w, grad, m, v *float32, n int, p *adamWParams)

//go:noescape
func adamWStepAVX512(w, grad, m, v *float32, n int, p *adamWParams)

// adamWStepSIMD: whole groups of 16 on the AVX-512 kernel when the AVX-512
// GEMM is active, groups of 8 on the AVX2 one, the tail in Go (the same
// operations per element everywhere, so the split does not change a bit).
func adamWStepSIMD(w, g, m, v []float32, p *adamWParams) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	n16, n8 := laneSpans(n)
	if n16 > 0 {
		adamWStepAVX512(&w[0], &g[0], &m[0], &v[0], n16, p)
	}
	if n8 > n16 {
		adamWStepAVX2(&w[n16], &g[n16], &m[n16], &v[n16], n8-n16, p)
	}
	if n8 < n {
		adamWStepGo(w[n8:], g[n8:], m[n8:], v[n8:], p)
	}
}
