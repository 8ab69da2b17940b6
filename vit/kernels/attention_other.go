//go:build !amd64 || purego

package kernels

func attnFusedSIMDOK(T, hd int) bool { return false }

func attnFusedSIMD(out, probs, q, kt, v, s []float32, T, tp, hd, ld, ldo int, scale float32) {
	panic("unreachable")
}

func flashRowsSIMD(s []float32, np, rows int, mrow, lrow, o []float32, hd int) {
	flashRowsGo(s, np, rows, mrow, lrow, o, hd)
}

func flashTileOK(hd int) bool { return false }

func flashTileSIMD(m, n, np, hd int, q []float32, ldq int, kt, v []float32, ldv int, o, mrow, lrow, s []float32, scale float32, out []float32, ldo int, last bool) {
	panic("unreachable")
}

func attnBackFusedSIMDOK(hd int) bool { return false }

func attnBackGroupSIMD(T, tp, hd int, g []float32, ldg int, q []float32, ldq int, k []float32, ld int, vt, pp, dp, dq []float32, lddq int, dvacc, dkacc, dv, dk []float32, first, last bool, scale float32) {
	panic("unreachable")
}
