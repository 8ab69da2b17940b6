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
	done := 0
	if activeGemm == avx512Gemm {
		if done = n &^ 15; done > 0 {
			adamWStepAVX512(&w[0], &g[0], &m[0], &v[0], done, p)
		}
	}
	if n8 := n &^ 7; n8 > done {
		adamWStepAVX2(&w[done], &g[done], &m[done], &v[done], n8-done, p)
		done = n8
	}
	if done < n {
		adamWStepGo(w[done:], g[done:], m[done:], v[done:], p)
	}
}
