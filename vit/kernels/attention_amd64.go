//go:build amd64 && !purego

package kernels

//go:noescape
func attnFusedAVX2(m, T, tp, hd int, q *float32, ld int, kt *float32, v *float32, out *float32, ldo int, probs *float32, s *float32, scale float32)

//go:noescape
func attnFusedAVX512(m, T, tp, hd int, q *float32, ld int, kt *float32, v *float32, out *float32, ldo int, probs *float32, s *float32, scale float32)

//go:noescape
func attnFused16AVX512(m, T, tp, hd int, q *float32, ld int, kt *float32, v *float32, out *float32, ldo int, probs *float32, s *float32, scale float32)

//go:noescape
func flashRowsAVX2(s *float32, lds, n8, rows int, mrow, lrow, o *float32, hd int)

// attnFusedSIMDOK reports whether attnFusedSIMD handles these sizes.
func attnFusedSIMDOK(T, hd int) bool { return T >= 4 && hd > 0 && hd&7 == 0 }

// attnFusedSIMD runs attnFusedAVX2 on all T query rows of one pair (see
// there); q, v and out start at the head's first column, kt is the
// transposed, zero-padded K (hd×tp), s is attnFusedRows*tp floats of
// scratch and probs the pair's T×T block or nil.
func attnFusedSIMD(out, probs, q, kt, v, s []float32, T, tp, hd, ld, ldo int, scale float32) {
	_ = q[(T-1)*ld+hd-1]
	_ = v[(T-1)*ld+hd-1]
	_ = out[(T-1)*ldo+hd-1]
	_ = kt[hd*tp-1]
	_ = s[attnFusedRows*tp-1]
	var pp *float32
	if probs != nil {
		_ = probs[T*T-1]
		pp = &probs[0]
	}
	if activeGemm == avx512Gemm && hd == 16 && T >= 8 {
		// The same bits (see attnFused16AVX512), 8 rows per group; the
		// rows past the last multiple of 8 go through 4-row groups, which
		// recompute fewer rows than a moved-back 8-row group (T = 17: 20
		// rows computed instead of 24).
		m8 := T &^ 7
		attnFused16AVX512(m8, T, tp, hd, &q[0], ld, &kt[0], &v[0], &out[0], ldo, pp, &s[0], scale)
		if m8 == T {
			return
		}
		r0 := min(m8, T-4)
		if pp != nil {
			pp = &probs[r0*T]
		}
		attnFusedAVX512(T-r0, T, tp, hd, &q[r0*ld], ld, &kt[0], &v[0], &out[r0*ldo], ldo, pp, &s[0], scale)
		return
	}
	if activeGemm == avx512Gemm {
		// The same bits (see attnFusedAVX512), 4×32 product blocks.
		attnFusedAVX512(T, T, tp, hd, &q[0], ld, &kt[0], &v[0], &out[0], ldo, pp, &s[0], scale)
		return
	}
	attnFusedAVX2(T, T, tp, hd, &q[0], ld, &kt[0], &v[0], &out[0], ldo, pp, &s[0], scale)
}

// flashRowsSIMD: see flashRowsAVX2 (np and hd multiples of 8).
func flashRowsSIMD(s []float32, np, rows int, mrow, lrow, o []float32, hd int) {
	if np&7 != 0 || hd&7 != 0 {
		flashRowsGo(s, np, rows, mrow, lrow, o, hd)
		return
	}
	if rows == 0 {
		return
	}
	_ = s[rows*np-1]
	_ = mrow[rows-1]
	_ = lrow[rows-1]
	_ = o[rows*hd-1]
	flashRowsAVX2(&s[0], np, np/8, rows, &mrow[0], &lrow[0], &o[0], hd)
}

//go:noescape
func flashTileAVX2(m, n, np, hd int, q *float32, ldq int, kt *float32, v *float32, ldv int, o *float32, mrow, lrow *float32, s *float32, scale float32, out *float32, ldo int, last bool)

//go:noescape
func flashTileAVX512(m, n, np, hd int, q *float32, ldq int, kt *float32, v *float32, ldv int, o *float32, mrow, lrow *float32, s *float32, scale float32, out *float32, ldo int, last bool)

// flashTileOK reports whether the AVX2 tile kernel runs (hd a multiple of 8).
func flashTileOK(hd int) bool { return useSIMD && hd > 0 && hd&7 == 0 }

// flashTileSIMD: see flashTileAVX2 (m a multiple of 6; q and out start at
// the first row's head columns; v at the key block's first V row).
func flashTileSIMD(m, n, np, hd int, q []float32, ldq int, kt, v []float32, ldv int, o, mrow, lrow, s []float32, scale float32, out []float32, ldo int, last bool) {
	_ = q[(m-1)*ldq+hd-1]
	_ = kt[hd*np-1]
	_ = v[(n-1)*ldv+hd-1]
	_ = o[m*hd-1]
	_ = mrow[m-1]
	_ = lrow[m-1]
	_ = s[6*np+11]
	_ = out[(m-1)*ldo+hd-1]
	if activeGemm == avx512Gemm {
		// The same bits (see flashTileAVX512), 6×32 product blocks and
		// 16-lane exps.
		flashTileAVX512(m, n, np, hd, &q[0], ldq, &kt[0], &v[0], ldv, &o[0], &mrow[0], &lrow[0], &s[0], scale, &out[0], ldo, last)
		return
	}
	flashTileAVX2(m, n, np, hd, &q[0], ldq, &kt[0], &v[0], ldv, &o[0], &mrow[0], &lrow[0], &s[0], scale, &out[0], ldo, last)
}

//go:noescape
func attnBackGroupAVX2(T, tp, hd int, gr *float32, ldg int, q *float32, ldq int, k *float32, ld int, vt, pp, dp, dq *float32, lddq int, dvacc, dkacc, dv, dk *float32, first, last bool, scale float32)

//go:noescape
func attnBackGroupAVX512(T, tp, hd int, gr *float32, ldg int, q *float32, ldq int, k *float32, ld int, vt, pp, dp, dq *float32, lddq int, dvacc, dkacc, dv, dk *float32, first, last bool, scale float32)

// attnBackFusedSIMDOK reports whether the fused backward runs (AVX2, hd a
// multiple of 8).
func attnBackFusedSIMDOK(hd int) bool { return useSIMD && hd > 0 && hd&7 == 0 }

// attnBackGroupSIMD: see attnBackGroupAVX2 (attnBackGroupAVX512 with the
// AVX-512 GEMM active). g, q and dq hold the group's 4
// rows (row strides ldg, ldq, lddq), k, dv and dk all T rows (stride ld).
func attnBackGroupSIMD(T, tp, hd int, g []float32, ldg int, q []float32, ldq int, k []float32, ld int, vt, pp, dp, dq []float32, lddq int, dvacc, dkacc, dv, dk []float32, first, last bool, scale float32) {
	_ = g[3*ldg+hd-1]
	_ = q[3*ldq+hd-1]
	_ = dq[3*lddq+hd-1]
	_ = k[(T-1)*ld+hd-1]
	_ = dv[(T-1)*ld+hd-1]
	_ = dk[(T-1)*ld+hd-1]
	_ = vt[hd*tp-1]
	_ = pp[4*tp-1]
	_ = dp[4*tp-1]
	_ = dvacc[T*hd-1]
	_ = dkacc[T*hd-1]
	if activeGemm == avx512Gemm {
		// The same bits (see attnBackGroupAVX512), 16 columns per ZMM.
		attnBackGroupAVX512(T, tp, hd, &g[0], ldg, &q[0], ldq, &k[0], ld, &vt[0], &pp[0], &dp[0], &dq[0], lddq, &dvacc[0], &dkacc[0], &dv[0], &dk[0], first, last, scale)
		return
	}
	attnBackGroupAVX2(T, tp, hd, &g[0], ldg, &q[0], ldq, &k[0], ld, &vt[0], &pp[0], &dp[0], &dq[0], lddq, &dvacc[0], &dkacc[0], &dv[0], &dk[0], first, last, scale)
}
