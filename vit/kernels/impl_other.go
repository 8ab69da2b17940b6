//go:build !amd64 || purego

package kernels

var simdGemm = genericGemm

// avx512Gemm exists on amd64 only.
var avx512Gemm *gemmImpl

var hasAVX512DQ bool

func hasSIMD() bool   { return false }
func hasAVX512() bool { return false }

func geluForwardSIMD(out, inp []float32)         { geluForwardGo(out, inp) }
func geluBackwardSIMD(dinp, inp, dout []float32) { geluBackwardGo(dinp, inp, dout) }

func rowsGemmSIMD(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, alpha float32, acc bool, tmp []float32) {
	rowsGemmGo(m, n, k, a, ars, acs, b, ldb, c, ldc, alpha, acc)
}

func expShiftSIMD(x []float32, shift float32) { expShiftGo(x, shift) }

func addSIMD(out, a, b []float32)                        { addGo(out, a, b) }
func colSumsSIMD(dst, x []float32, rows, ld, lo, hi int) { panic("unreachable") }
func axpySIMD(alpha float32, x, y []float32)             { axpyGo(alpha, x, y) }
func dotSIMD(a, b []float32) float32                     { return dotGo(a, b) }
func lnSIMDOK(int, []float32, []float32, bool) bool      { return false }
func lnForwardSIMD(out, mean, rstd, inp, weight, bias []float32, rows, dim int, eps float32) {
	panic("unreachable")
}
func lnBackwardSIMD(dinp, dout, inp, weight, mean, rstd []float32, rows, dim int) {
	panic("unreachable")
}
func lnParamsSIMD(dweight, dbias, dout, inp, mean, rstd []float32, rows, dim, lo, hi int) {
	panic("unreachable")
}

func softmaxRowsSIMD(s []float32, tp, rows int) { softmaxRowsGo(s, tp, rows) }
func transposeSIMD(dst []float32, ldd int, src []float32, lds int, rows, cols int) {
	transposeGo(dst, ldd, src, lds, rows, cols)
}

func softmaxBackRowsSIMD(p, d []float32, tp, rows int, scale float32) {
	softmaxBackRowsGo(p, d, tp, rows, scale)
}

func fmaLoops() []fmaLoopImpl { return nil }
