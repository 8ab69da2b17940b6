//go:build !amd64 || purego

package kernels

var simdGemm = genericGemm

func hasSIMD() bool { return false }

func geluForwardSIMD(out, inp []float32)         { geluForwardGo(out, inp) }
func geluBackwardSIMD(dinp, inp, dout []float32) { geluBackwardGo(dinp, inp, dout) }

func rowsGemmSIMD(m, n, k int, a []float32, ars, acs int, b []float32, ldb int, c []float32, ldc int, alpha float32, acc bool) {
	rowsGemmGo(m, n, k, a, ars, acs, b, ldb, c, ldc, alpha, acc)
}

func expShiftSIMD(x []float32, shift float32) { expShiftGo(x, shift) }
