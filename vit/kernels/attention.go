package kernels

import (
	"fmt"
	"math"
)

// AttentionForward computes the multi-head self-attention core (no mask).
// qkv is [B*T, 3D]: columns [0,D) are q, [D,2D) k and [2D,3D) v; head h uses
// columns h*hd..(h+1)*hd of each, hd = D/H. It writes probs [B,H,T,T] =
// softmax(q·kᵀ/sqrt(hd)) (saved for the backward pass) and out [B*T, D] =
// probs·v with the heads concatenated in the same column layout.
// Work is split over (batch, head) pairs.
func AttentionForward(out, probs, qkv []float32, B, T, D, H int) {
	hd := checkAttention("AttentionForward", qkv, B, T, D, H)
	checkLen("AttentionForward", B*T*D, "out", out)
	checkLen("AttentionForward", B*H*T*T, "probs", probs)
	scale := float32(1 / math.Sqrt(float64(hd)))
	body := func(lo, hi int) {
		for pair := lo; pair < hi; pair++ {
			attnForwardPair(out, probs, qkv, pair/H, pair%H, T, D, H, hd, scale)
		}
	}
	runPairs(B*H, T, hd, body)
}

// AttentionScratchSize is the length of the scratch buffer AttentionBackward
// needs for these sizes.
func AttentionScratchSize(B, T, D, H int) int { return B * H * T }

// AttentionBackward accumulates into dqkv ([B*T, 3D], same layout as qkv) the
// gradient of AttentionForward given dout ([B*T, D]), the forward inputs qkv
// and the saved probs. scratch must hold AttentionScratchSize(B,T,D,H)
// floats (its contents are overwritten); nil allocates it internally.
func AttentionBackward(dqkv, dout, qkv, probs, scratch []float32, B, T, D, H int) {
	hd := checkAttention("AttentionBackward", qkv, B, T, D, H)
	checkLen("AttentionBackward", B*T*3*D, "dqkv", dqkv)
	checkLen("AttentionBackward", B*T*D, "dout", dout)
	checkLen("AttentionBackward", B*H*T*T, "probs", probs)
	need := AttentionScratchSize(B, T, D, H)
	if scratch == nil {
		scratch = make([]float32, need)
	}
	checkLen("AttentionBackward", need, "scratch", scratch)
	scale := float32(1 / math.Sqrt(float64(hd)))
	body := func(lo, hi int) {
		for pair := lo; pair < hi; pair++ {
			attnBackwardPair(dqkv, dout, qkv, probs, scratch[pair*T:(pair+1)*T], pair/H, pair%H, T, D, H, hd, scale)
		}
	}
	runPairs(B*H, T, hd, body)
}

func checkAttention(fn string, qkv []float32, B, T, D, H int) int {
	if B < 0 || T < 0 || D < 0 || H <= 0 || D%H != 0 {
		panic(fmt.Sprintf("kernels: %s: bad sizes B=%d T=%d D=%d H=%d (D must be a multiple of H)", fn, B, T, D, H))
	}
	checkLen(fn, B*T*3*D, "qkv", qkv)
	return D / H
}

// runPairs runs body over the (batch, head) pairs, in parallel when the
// problem is big enough.
func runPairs(pairs, T, hd int, body func(lo, hi int)) {
	if pairs*T*T*hd < 32*1024 {
		body(0, pairs)
		return
	}
	grain := max(1, 8*1024/(T*T*hd+1))
	Parallel(pairs, grain, body)
}

func attnForwardPair(out, probs, qkv []float32, b, h, T, D, H, hd int, scale float32) {
	ld := 3 * D
	base := b * T * ld
	qo, ko, vo := base+h*hd, base+D+h*hd, base+2*D+h*hd
	pr := probs[(b*H+h)*T*T : (b*H+h+1)*T*T]
	for i := 0; i < T; i++ {
		q := qkv[qo+i*ld : qo+i*ld+hd]
		p := pr[i*T : (i+1)*T]
		mx := float32(math.Inf(-1))
		for j := range p {
			s := dotGo(q, qkv[ko+j*ld:ko+j*ld+hd]) * scale
			p[j] = s
			if s > mx {
				mx = s
			}
		}
		var sum float32
		for j, s := range p {
			e := float32(math.Exp(float64(s - mx)))
			p[j] = e
			sum += e
		}
		inv := 1 / sum
		for j := range p {
			p[j] *= inv
		}
		o := out[(b*T+i)*D+h*hd : (b*T+i)*D+(h+1)*hd]
		clear(o)
		for j, pj := range p {
			axpyGo(pj, qkv[vo+j*ld:vo+j*ld+hd], o)
		}
	}
}

func attnBackwardPair(dqkv, dout, qkv, probs, dp []float32, b, h, T, D, H, hd int, scale float32) {
	ld := 3 * D
	base := b * T * ld
	qo, ko, vo := base+h*hd, base+D+h*hd, base+2*D+h*hd
	pr := probs[(b*H+h)*T*T : (b*H+h+1)*T*T]
	for i := 0; i < T; i++ {
		g := dout[(b*T+i)*D+h*hd : (b*T+i)*D+(h+1)*hd]
		p := pr[i*T : (i+1)*T]
		// dP[i,j] = dout_i·v_j ; dv_j += P[i,j]*dout_i
		var s float32
		for j, pj := range p {
			d := dotGo(g, qkv[vo+j*ld:vo+j*ld+hd])
			dp[j] = d
			s += pj * d
			axpyGo(pj, g, dqkv[vo+j*ld:vo+j*ld+hd])
		}
		// dS[i,j] = P[i,j]*(dP[i,j] - sum_j' P dP); dq_i += scale*dS k_j ; dk_j += scale*dS q_i
		q := qkv[qo+i*ld : qo+i*ld+hd]
		dq := dqkv[qo+i*ld : qo+i*ld+hd]
		for j, pj := range p {
			ds := pj * (dp[j] - s) * scale
			axpyGo(ds, qkv[ko+j*ld:ko+j*ld+hd], dq)
			axpyGo(ds, q, dqkv[ko+j*ld:ko+j*ld+hd])
		}
	}
}
