package kernels

import (
	"fmt"
	"math"
	"os"
)

// AttentionForward computes the multi-head self-attention core (no mask).
// qkv is [B*T, 3D]: columns [0,D) are q, [D,2D) k and [2D,3D) v; head h uses
// columns h*hd..(h+1)*hd of each, hd = D/H. It writes probs [B,H,T,T] =
// softmax(q·kᵀ/sqrt(hd)) (saved for the backward pass) and out [B*T, D] =
// probs·v with the heads concatenated in the same column layout; probs may
// be nil when no backward pass follows (inference).
// Work is split over (batch, head) pairs.
func AttentionForward(out, probs, qkv []float32, B, T, D, H int) {
	AllCores.AttentionForward(out, probs, qkv, B, T, D, H)
}

// AttentionForward is [AttentionForward] on at most w goroutines.
func (w Workers) AttentionForward(out, probs, qkv []float32, B, T, D, H int) {
	hd := checkAttention("AttentionForward", qkv, B, T, D, H)
	checkLen("AttentionForward", B*T*D, "out", out)
	if probs != nil {
		checkLen("AttentionForward", B*H*T*T, "probs", probs)
	}
	if B == 0 || T == 0 || hd == 0 {
		return
	}
	scale := float32(1 / math.Sqrt(float64(hd)))
	path := attnForwardPath(probs == nil, T, hd)
	ws := attnForwardWorkspace(path, T, hd)
	body := func(lo, hi int) {
		pw := getBuf(ws)
		if path == attnPathFused {
			attnFusedInit(*pw, T, hd)
		}
		for pair := lo; pair < hi; pair++ {
			switch path {
			case attnPathTiled:
				attnTiledPair(out, qkv, *pw, pair, T, D, H, hd, scale)
			case attnPathFused:
				attnFusedPair(out, probs, qkv, *pw, pair, T, D, H, hd, scale)
			default:
				attnForwardPair(out, probs, qkv, *pw, pair, T, D, H, hd, scale)
			}
		}
		putBuf(pw)
	}
	runPairs(w, B*H, T, hd, body)
}

// The forward paths: the unfused one (a transpose, rowsGemm, softmax and
// rowsGemm over a T×T score matrix per pair), the fused one (bit-identical
// to it, see attention_fused.go) and, for inference with long sequences,
// the tiled one with an online softmax (attention_tiled.go).
const (
	attnPathUnfused = iota
	attnPathFused
	attnPathTiled
)

// attnUnfused selects the unfused forward for every call
// (FRANKENVIT_ATTN=unfused): the kernels as they were before the fused and
// tiled paths, for comparisons.
var attnUnfused = os.Getenv("FRANKENVIT_ATTN") == "unfused"

// attnForwardPath picks the forward path for these sizes: the tiled one
// for inference with T > attnTiledMinT and hd >= attnTiledMinD, else the
// fused one where it runs.
func attnForwardPath(inference bool, T, hd int) int {
	switch {
	case attnUnfused:
		return attnPathUnfused
	case inference && T > attnTiledMinT && hd >= attnTiledMinD:
		return attnPathTiled
	case attnFusedOK(T, hd):
		return attnPathFused
	}
	return attnPathUnfused
}

// attnForwardWorkspace is the scratch (floats) one goroutine of the
// forward needs on that path.
func attnForwardWorkspace(path, T, hd int) int {
	switch path {
	case attnPathTiled:
		return attnTiledWorkspace(hd)
	case attnPathFused:
		return attnFusedWorkspace(T, hd)
	}
	return attnWorkspace(T, hd)
}

// attnWorkspace is the scratch one (batch, head) pair needs: a transposed
// head of K or V (hd×Tp), two score-sized matrices (T×Tp), Tp = T rounded up
// to 8, and rowsGemm's padding scratch.
func attnWorkspace(T, hd int) int {
	tp := (T + 7) &^ 7
	return (hd+2*T)*tp + 6*(hd+tp+T)
}

// AttentionScratchSize is the length of the scratch buffer AttentionBackward
// can use for these sizes (one private region per (batch, head) pair).
func AttentionScratchSize(B, T, D, H int) int {
	if H <= 0 {
		return 0
	}
	return B * H * attnWorkspace(T, D/H)
}

// AttentionBackward accumulates into dqkv ([B*T, 3D], same layout as qkv) the
// gradient of AttentionForward given dout ([B*T, D]), the forward inputs qkv
// and the saved probs. scratch is either nil (an internal pool is used) or
// holds at least AttentionScratchSize(B,T,D,H) floats, which are
// overwritten; the result does not depend on which.
func AttentionBackward(dqkv, dout, qkv, probs, scratch []float32, B, T, D, H int) {
	AllCores.AttentionBackward(dqkv, dout, qkv, probs, scratch, B, T, D, H)
}

// AttentionBackward is [AttentionBackward] on at most w goroutines.
func (w Workers) AttentionBackward(dqkv, dout, qkv, probs, scratch []float32, B, T, D, H int) {
	hd := checkAttention("AttentionBackward", qkv, B, T, D, H)
	checkLen("AttentionBackward", B*T*3*D, "dqkv", dqkv)
	checkLen("AttentionBackward", B*T*D, "dout", dout)
	checkLen("AttentionBackward", B*H*T*T, "probs", probs)
	if B == 0 || T == 0 || hd == 0 {
		return
	}
	ws := attnWorkspace(T, hd)
	if scratch != nil {
		checkLen("AttentionBackward", AttentionScratchSize(B, T, D, H), "scratch", scratch)
	}
	scale := float32(1 / math.Sqrt(float64(hd)))
	if attnBackFused(T, hd) {
		// The fused backward keeps its (smaller, per goroutine) scratch in
		// the pool, whatever the caller passed.
		fws := attnBackFusedWorkspace(T, hd)
		runPairs(w, B*H, T, hd, func(lo, hi int) {
			pw := getBuf(fws)
			attnBackFusedInit(*pw, T, hd)
			for pair := lo; pair < hi; pair++ {
				if attnBackPrefetching && pair+1 < B*H {
					attnBackPrefetch(dqkv, dout, qkv, probs, pair+1, T, D, H, hd)
				}
				attnBackwardFusedPair(dqkv, dout, qkv, probs, *pw, pair, T, D, H, hd, scale)
			}
			putBuf(pw)
		})
		return
	}
	body := func(lo, hi int) {
		var pw *[]float32
		if scratch == nil {
			pw = getBuf(ws)
			defer putBuf(pw)
		}
		for pair := lo; pair < hi; pair++ {
			w := scratch
			if pw != nil {
				w = *pw
			} else {
				w = scratch[pair*ws : (pair+1)*ws]
			}
			attnBackwardPair(dqkv, dout, qkv, probs, w, pair, T, D, H, hd, scale)
		}
	}
	runPairs(w, B*H, T, hd, body)
}

// attnBackFused reports whether the backward takes the fused path (AVX2,
// hd a multiple of 8 and at most attnBackFusedMaxD, T <= attnBackFusedMaxT,
// not FRANKENVIT_ATTN=unfused).
func attnBackFused(T, hd int) bool {
	return !attnUnfused && attnBackFusedSIMDOK(hd) && T <= attnBackFusedMaxT && hd <= attnBackFusedMaxD
}

// The shapes the fused backward takes, set by measurement on the 2-core
// EPYC (BenchmarkAttentionBackwardT, 1 worker, fused/unfused time): heads of
// 16 columns gain 2-10% for T = 17..50 (12% at T=17 with batch 2048, whose
// data no longer fits in the caches), break even at T = 65..100 and lose 5%
// at 197; heads of 32 and 64 columns, where the unfused path's products run
// on the 6-row micro-kernel, lose up to 10% (T=24..65) apart from T=32.
var (
	attnBackFusedMaxT = 64
	attnBackFusedMaxD = 16
)

// attnBackPrefetching: the fused backward prefetches the next pair's rows
// while it works on one (see attnBackPrefetch; a variable for
// BenchmarkAttnBackPrefetch: out of the caches, as in training, the
// default model's backward 0.61 -> 0.33 ms a batch on one goroutine).
var attnBackPrefetching = true

func checkAttention(fn string, qkv []float32, B, T, D, H int) int {
	if B < 0 || T < 0 || D < 0 || H <= 0 || D%H != 0 {
		panic(fmt.Sprintf("kernels: %s: bad sizes B=%d T=%d D=%d H=%d (D must be a multiple of H)", fn, B, T, D, H))
	}
	checkLen(fn, B*T*3*D, "qkv", qkv)
	return D / H
}

// runPairs runs body over the (batch, head) pairs, in parallel when the
// problem is big enough.
func runPairs(w Workers, pairs, T, hd int, body func(lo, hi int)) {
	if pairs*T*T*hd < 32*1024 {
		body(0, pairs)
		return
	}
	grain := max(1, 16*1024/(T*T*hd+1))
	parallelChunks(w, pairs, grain, body)
}

// transposeHead writes the T×hd head at src (row stride ld) transposed into
// dst (hd×tp), zero-padding columns T..tp.
func transposeHead(dst, src []float32, T, hd, ld, tp int) {
	transpose(dst, tp, src, ld, T, hd)
	if tp > T {
		for d := 0; d < hd; d++ {
			clear(dst[d*tp+T : (d+1)*tp])
		}
	}
}

func attnForwardPair(out, probs, qkv, ws []float32, pair, T, D, H, hd int, scale float32) {
	b, h := pair/H, pair%H
	ld, tp := 3*D, (T+7)&^7
	base := b * T * ld
	qo, ko, vo := base+h*hd, base+D+h*hd, base+2*D+h*hd
	kt, s, tmp := ws[:hd*tp], ws[hd*tp:(hd+T)*tp], ws[(hd+T)*tp:]
	transposeHead(kt, qkv[ko:], T, hd, ld, tp)
	// S = scale * Q·Kᵀ (T×tp; the padding columns are 0 and ignored)
	rowsGemm(T, tp, hd, qkv[qo:], ld, 1, kt, tp, s, tp, scale, false, tmp)
	// softmax over the T real columns: padding columns are set to -Inf and
	// come out as 0.
	negInf := float32(math.Inf(-1))
	for i := 0; i < T; i++ {
		for j := T; j < tp; j++ {
			s[i*tp+j] = negInf
		}
	}
	softmaxRows(s, tp, T)
	if probs != nil {
		pr := probs[pair*T*T : (pair+1)*T*T]
		for i := 0; i < T; i++ {
			copy(pr[i*T:(i+1)*T], s[i*tp:i*tp+T])
		}
	}
	// O = P·V
	rowsGemm(T, hd, T, s, tp, 1, qkv[vo:], ld, out[b*T*D+h*hd:], D, 1, false, tmp)
}

func attnBackwardPair(dqkv, dout, qkv, probs, ws []float32, pair, T, D, H, hd int, scale float32) {
	b, h := pair/H, pair%H
	ld, tp := 3*D, (T+7)&^7
	base := b * T * ld
	qo, ko, vo := base+h*hd, base+D+h*hd, base+2*D+h*hd
	vt, dp, pp := ws[:hd*tp], ws[hd*tp:(hd+T)*tp], ws[(hd+T)*tp:(hd+2*T)*tp]
	tmp := ws[(hd+2*T)*tp:]
	// P with rows padded to tp (zeros), so the row operations vectorise.
	pr := probs[pair*T*T : (pair+1)*T*T]
	for i := 0; i < T; i++ {
		copy(pp[i*tp:i*tp+T], pr[i*T:(i+1)*T])
		clear(pp[i*tp+T : (i+1)*tp])
	}
	g := dout[b*T*D+h*hd:]
	transposeHead(vt, qkv[vo:], T, hd, ld, tp)
	// dP = dO·Vᵀ ; dV += Pᵀ·dO
	rowsGemm(T, tp, hd, g, D, 1, vt, tp, dp, tp, 1, false, tmp)
	rowsGemm(T, hd, T, pp, 1, tp, g, D, dqkv[vo:], ld, 1, true, tmp)
	// dS = P∘(dP - rowsum(P∘dP)) * scale, in place in dp
	softmaxBackRows(pp, dp, tp, T, scale)
	// dQ += dS·K ; dK += dSᵀ·Q
	rowsGemm(T, hd, T, dp, tp, 1, qkv[ko:], ld, dqkv[qo:], ld, 1, true, tmp)
	rowsGemm(T, hd, T, dp, 1, tp, qkv[qo:], ld, dqkv[ko:], ld, 1, true, tmp)
}
