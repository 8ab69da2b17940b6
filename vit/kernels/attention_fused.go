package kernels

import "math"

// The fused attention forward: one pass per (batch, head) pair over data
// that stays in L1 (Kᵀ of the head and 4 rows of scores), instead of a
// transpose, two rowsGemm calls, a softmax call and copies over a T×T score
// matrix. Every element gets exactly the arithmetic of the unfused path
// (attnForwardPair), so outputs and probs are bit-identical to it.

// attnFusedOK reports whether the fused kernel handles a head of hd
// columns and T tokens with the implementation in use: the AVX2 kernel needs
// T >= 4 and hd a multiple of 8 (otherwise the unfused path runs); the pure
// Go one takes any size.
func attnFusedOK(T, hd int) bool {
	if useSIMD {
		return attnFusedSIMDOK(T, hd)
	}
	return true
}

// attnFusedRows is the most query rows a fused kernel holds scores for at
// a time (attnFused16AVX512's group; the others take 4).
const attnFusedRows = 8

// attnFusedWorkspace is the scratch of one goroutine of the fused forward:
// Kᵀ (hd×tp) and attnFusedRows rows of scores (tp each).
func attnFusedWorkspace(T, hd int) int {
	tp := (T + 7) &^ 7
	return (hd + attnFusedRows) * tp
}

// attnFusedInit zeroes the Kᵀ of a fused forward's workspace. A pair's
// transpose then writes only its first T columns: the padding columns stay
// zero from pair to pair, and clearing them once per workspace instead of
// once per pair saves hd short clears per pair (the default model's heads
// do little more work than that).
func attnFusedInit(ws []float32, T, hd int) {
	tp := (T + 7) &^ 7
	clear(ws[:hd*tp])
}

// attnFusedPair runs the fused forward of one (batch, head) pair in ws, a
// workspace that attnFusedInit has prepared (and only attnFusedPair has
// used since, with the same T and hd).
func attnFusedPair(out, probs, qkv, ws []float32, pair, T, D, H, hd int, scale float32) {
	b, h := pair/H, pair%H
	ld, tp := 3*D, (T+7)&^7
	base := b * T * ld
	qo, ko, vo := base+h*hd, base+D+h*hd, base+2*D+h*hd
	kt, s := ws[:hd*tp], ws[hd*tp:(hd+attnFusedRows)*tp]
	transpose(kt, tp, qkv[ko:], ld, T, hd) // columns T..tp are still zero (attnFusedInit)
	var pr []float32
	if probs != nil {
		pr = probs[pair*T*T : (pair+1)*T*T]
	}
	o := out[b*T*D+h*hd:]
	if useSIMD {
		attnFusedSIMD(o, pr, qkv[qo:], kt, qkv[vo:], s, T, tp, hd, ld, D, scale)
		return
	}
	attnFusedGo(o, pr, qkv[qo:], kt, qkv[vo:], s, T, tp, hd, ld, D, scale)
}

// attnFusedGo is the pure-Go fused pair, one query row at a time through
// the same rowsGemmGo and softmaxRowsGo calls as the unfused path, so it is
// bit-identical to it.
func attnFusedGo(out, probs, q, kt, v, s []float32, T, tp, hd, ld, ldo int, scale float32) {
	row := s[:tp]
	negInf := float32(math.Inf(-1))
	for i := 0; i < T; i++ {
		rowsGemmGo(1, T, hd, q[i*ld:], ld, 1, kt, tp, row, tp, scale, false)
		for j := T; j < tp; j++ {
			row[j] = negInf
		}
		softmaxRowsGo(row, tp, 1)
		if probs != nil {
			copy(probs[i*T:(i+1)*T], row[:T])
		}
		rowsGemmGo(1, hd, T, row, tp, 1, v, ld, out[i*ldo:], ldo, 1, false)
	}
}
