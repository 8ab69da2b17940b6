package kernels

// The fused attention backward: per (batch, head) pair, the query rows go
// in groups of 4 through one assembly call each (dP, the softmax backward,
// dQ, and the dV and dK sums continued across the groups), instead of a P
// copy, a transpose, four rowsGemm calls and a softmax-backward call over
// T×T matrices. Every element gets exactly the arithmetic of the unfused
// path (attnBackwardPair), so the gradients are bit-identical to it.

// attnBackFusedWorkspace is the scratch of one goroutine of the fused
// backward: Vᵀ (hd×tp), 4 rows of P and of dP (tp each), the dV and dK sums
// (T×hd each) and zero-padded copies of the last group's dO, Q and dQ rows.
func attnBackFusedWorkspace(T, hd int) int {
	tp := (T + 7) &^ 7
	return hd*tp + 8*tp + 2*T*hd + 12*hd
}

// attnBackFusedInit zeroes the Vᵀ and P rows of a fused backward's
// workspace. A pair writes only their first T columns, so the padding
// columns stay zero from pair to pair: cleared once per workspace, not once
// per pair.
func attnBackFusedInit(ws []float32, T, hd int) {
	tp := (T + 7) &^ 7
	clear(ws[:hd*tp+4*tp])
}

// attnBackwardFusedPair runs the fused backward of one (batch, head) pair
// in ws, a workspace that attnBackFusedInit has prepared (and only
// attnBackwardFusedPair has used since, with the same T and hd).
func attnBackwardFusedPair(dqkv, dout, qkv, probs, ws []float32, pair, T, D, H, hd int, scale float32) {
	b, h := pair/H, pair%H
	ld, tp := 3*D, (T+7)&^7
	base := b * T * ld
	qo, ko, vo := base+h*hd, base+D+h*hd, base+2*D+h*hd
	vt, ws := ws[:hd*tp], ws[hd*tp:]
	pp, dp, ws := ws[:4*tp], ws[4*tp:8*tp], ws[8*tp:]
	dvacc, dkacc, ws := ws[:T*hd], ws[T*hd:2*T*hd], ws[2*T*hd:]
	gpad, qpad, dqpad := ws[:4*hd], ws[4*hd:8*hd], ws[8*hd:12*hd]
	transpose(vt, tp, qkv[vo:], ld, T, hd) // columns T..tp are still zero (attnBackFusedInit)
	pr := probs[pair*T*T : (pair+1)*T*T]
	g := dout[b*T*D+h*hd:]
	// The P rows' padding columns T..tp stay zero through the groups and
	// the pairs (the kernel only reads pp; attnBackFusedInit cleared them).
	for i0 := 0; i0 < T; i0 += 4 {
		r := min(4, T-i0)
		for i := range 4 {
			row := pp[i*tp : (i+1)*tp]
			if i < r {
				copy(row, pr[(i0+i)*T:(i0+i+1)*T])
			} else {
				clear(row)
			}
		}
		first, last := i0 == 0, i0+4 >= T
		if r == 4 {
			attnBackGroupSIMD(T, tp, hd, g[i0*D:], D, qkv[qo+i0*ld:], ld, qkv[ko:], ld, vt, pp, dp,
				dqkv[qo+i0*ld:], ld, dvacc, dkacc, dqkv[vo:], dqkv[ko:], first, last, scale)
			continue
		}
		// The last rows through copies padded with zero rows (which add
		// exact zeros to the dV and dK sums).
		for i := range 4 {
			gr, qr, dr := gpad[i*hd:(i+1)*hd], qpad[i*hd:(i+1)*hd], dqpad[i*hd:(i+1)*hd]
			if i < r {
				copy(gr, g[(i0+i)*D:(i0+i)*D+hd])
				copy(qr, qkv[qo+(i0+i)*ld:qo+(i0+i)*ld+hd])
				copy(dr, dqkv[qo+(i0+i)*ld:qo+(i0+i)*ld+hd])
			} else {
				clear(gr)
				clear(qr)
				clear(dr)
			}
		}
		attnBackGroupSIMD(T, tp, hd, gpad, hd, qpad, hd, qkv[ko:], ld, vt, pp, dp,
			dqpad, hd, dvacc, dkacc, dqkv[vo:], dqkv[ko:], first, last, scale)
		for i := range r {
			copy(dqkv[qo+(i0+i)*ld:qo+(i0+i)*ld+hd], dqpad[i*hd:(i+1)*hd])
		}
	}
}

// attnBackPrefetch asks for the rows that the fused backward of pair reads
// (its head's Q, K, V, their gradients, dO and P) to be brought into the
// caches. In training a layer's activations were written long before its
// backward and have left the caches; without this, the transpose of V and
// the first group waited on memory row by row.
func attnBackPrefetch(dqkv, dout, qkv, probs []float32, pair, T, D, H, hd int) {
	b, h := pair/H, pair%H
	ld := 3 * D
	base := b*T*ld + h*hd
	for _, s := range [][]float32{qkv, dqkv} {
		prefetchRows(s[base:], ld, T, hd)
		prefetchRows(s[base+D:], ld, T, hd)
		prefetchRows(s[base+2*D:], ld, T, hd)
	}
	prefetchRows(dout[b*T*D+h*hd:], D, T, hd)
	prefetchRows(probs[pair*T*T:], 16, (T*T+15)/16, 1)
}
