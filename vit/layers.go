package vit

import (
	"github.com/frankenvit/frankenvit/vit/kernels"
)

// The sub-layers of the model as llm.c-style forward/backward pairs over flat
// buffers. Forward functions write their output and fill an activation cache;
// backward functions ACCUMULATE into the input gradient (attnBackward and
// mlpBackward, whose callers hand them a fresh buffer, set it) and into the
// parameters' Grad. The training graph's operators (ops.go) and the tape-free inference
// path (infer.go) both call these; k is how many goroutines each kernel
// call may use, decided by the caller (the arena of a training shard, the
// runner of an evaluation worker).

// ---- patch embedding ----

type patchActs struct{ patches, tokens []float32 }

// im2col lays out each PxP patch of each image as one row [C*P*P] in the
// (c, ky, kx) order of a conv weight [D, C, P, P].
func im2col(dst, x []float32, c Config, B int) {
	P, C, H, W, gw := c.Patch, c.Channels, c.ImageHeight, c.ImageWidth, c.GridW()
	N, ps := c.Patches(), c.PatchSize()
	for b := 0; b < B; b++ {
		img := x[b*C*H*W:]
		for n := 0; n < N; n++ {
			py, px := n/gw, n%gw
			row := dst[(b*N+n)*ps:]
			i := 0
			for ch := 0; ch < C; ch++ {
				for ky := 0; ky < P; ky++ {
					src := img[ch*H*W+(py*P+ky)*W+px*P:]
					copy(row[i:i+P], src[:P])
					i += P
				}
			}
		}
	}
}

// patchForward writes h [B*T, D]: row 0 of each image is cls + pos[0], row
// 1+n is the embedded patch n + pos[1+n].
func patchForward(ar *Arena, k kernels.Workers, h, x []float32, a *patchActs, s *Stem, c Config, B int) {
	N, T, D, ps := c.Patches(), c.Tokens(), c.Dim, c.PatchSize()
	a.patches = ar.grow(a.patches, B*N*ps)
	a.tokens = ar.grow(a.tokens, B*N*D)
	im2col(a.patches, x, c, B)
	k.LinearForward(a.tokens, a.patches, s.PatchW.Data(), s.PatchB.Data(), B*N, ps, D)
	cls, pos := s.Cls.Data(), s.Pos.Data()
	for b := 0; b < B; b++ {
		hb := h[b*T*D : (b+1)*T*D]
		kernels.Add(hb[:D], cls, pos[:D])
		kernels.Add(hb[D:], a.tokens[b*N*D:(b+1)*N*D], pos[D:])
	}
}

func patchBackward(ar *Arena, k kernels.Workers, dh []float32, a *patchActs, s *Stem, c Config, B int) {
	N, T, D, ps := c.Patches(), c.Tokens(), c.Dim, c.PatchSize()
	dtok := ar.Scratch(B * N * D)
	defer ar.Recycle(dtok)
	dcls, dpos := s.Cls.Grad, s.Pos.Grad
	for b := 0; b < B; b++ {
		hb := dh[b*T*D : (b+1)*T*D]
		kernels.AddInPlace(dcls, hb[:D])
		kernels.AddInPlace(dpos, hb)
		copy(dtok[b*N*D:(b+1)*N*D], hb[D:])
	}
	k.LinearBackward(nil, s.PatchW.Grad, s.PatchB.Grad, dtok, a.patches, s.PatchW.Data(), B*N, ps, D)
}

// ---- attention sub-layer: out = h + proj(attn(qkv(LN1(h)))) ----

// attnActs holds the sub-layer's activations; inference sets noProbs, as no
// backward pass needs the attention probabilities.
type attnActs struct {
	ln, mean, rstd, qkv, probs, att []float32
	noProbs                         bool
}

func attnForward(ar *Arena, k kernels.Workers, eps float32, out, h []float32, a *attnActs, bl *Block, B, T int) {
	rows, D, H := B*T, bl.Dim, bl.Heads
	a.ln, a.mean, a.rstd = ar.grow(a.ln, rows*D), ar.grow(a.mean, rows), ar.grow(a.rstd, rows)
	a.qkv, a.att = ar.grow(a.qkv, rows*3*D), ar.grow(a.att, rows*D)
	if !a.noProbs {
		a.probs = ar.grow(a.probs, B*H*T*T)
	}
	k.LayerNormForward(a.ln, a.mean, a.rstd, h, bl.Norm1W.Data(), bl.Norm1B.Data(), rows, D, eps)
	k.LinearForward(a.qkv, a.ln, bl.QkvW.Data(), bl.QkvB.Data(), rows, D, 3*D)
	k.AttentionForward(a.att, a.probs, a.qkv, B, T, D, H)
	k.LinearResidualForward(out, a.att, bl.ProjW.Data(), bl.ProjB.Data(), h, rows, D, D)
}

// attnBackward SETS dh (the residual's dout plus the sub-layer's gradient),
// so dh needs no zeroing; the parameters' Grad accumulate as everywhere.
func attnBackward(ar *Arena, k kernels.Workers, dh, dout, h []float32, a *attnActs, bl *Block, B, T int) {
	rows, D, H := B*T, bl.Dim, bl.Heads
	// datt and dln are overwritten by their first writer; dqkv accumulates.
	datt, dqkv, dln := ar.ScratchAny(rows*D), ar.Scratch(rows*3*D), ar.ScratchAny(rows*D)
	defer ar.Recycle(datt, dqkv, dln)
	copy(dh, dout) // the residual path
	k.LinearBackwardTo(datt, bl.ProjW.Grad, bl.ProjB.Grad, dout, a.att, bl.ProjW.Data(), rows, D, D)
	k.AttentionBackward(dqkv, datt, a.qkv, a.probs, nil, B, T, D, H) // nil: the kernels' own scratch pool
	k.LinearBackwardTo(dln, bl.QkvW.Grad, bl.QkvB.Grad, dqkv, a.ln, bl.QkvW.Data(), rows, D, 3*D)
	k.LayerNormBackward(dh, bl.Norm1W.Grad, bl.Norm1B.Grad, dln, h, bl.Norm1W.Data(), a.mean, a.rstd, rows, D)
}

// ---- MLP sub-layer: out = h + fc2(GELU(fc1(LN2(h)))) ----

// mlpActs holds the sub-layer's activations; inference sets inPlace, as
// no backward pass needs the pre-activations: GELU then overwrites them.
type mlpActs struct {
	ln, mean, rstd, pre, act []float32
	inPlace                  bool
}

func mlpForward(ar *Arena, k kernels.Workers, eps float32, out, h []float32, a *mlpActs, bl *Block, rows int) {
	D, F := bl.Dim, bl.MLP
	a.ln, a.mean, a.rstd = ar.grow(a.ln, rows*D), ar.grow(a.mean, rows), ar.grow(a.rstd, rows)
	a.pre = ar.grow(a.pre, rows*F)
	if a.inPlace {
		a.act = a.pre
	} else {
		a.act = ar.grow(a.act, rows*F)
	}
	k.LayerNormForward(a.ln, a.mean, a.rstd, h, bl.Norm2W.Data(), bl.Norm2B.Data(), rows, D, eps)
	k.LinearGeluForward(a.act, a.pre, a.ln, bl.Fc1W.Data(), bl.Fc1B.Data(), rows, D, F)
	k.LinearResidualForward(out, a.act, bl.Fc2W.Data(), bl.Fc2B.Data(), h, rows, F, D)
}

// mlpBackward SETS dh, like attnBackward.
func mlpBackward(ar *Arena, k kernels.Workers, dh, dout, h []float32, a *mlpActs, bl *Block, rows int) {
	D, F := bl.Dim, bl.MLP
	// dpre and dln are overwritten by their first writer.
	dpre, dln := ar.ScratchAny(rows*F), ar.ScratchAny(rows*D)
	defer ar.Recycle(dpre, dln)
	copy(dh, dout) // the residual path
	k.LinearGeluBackwardTo(dpre, bl.Fc2W.Grad, bl.Fc2B.Grad, dout, a.act, bl.Fc2W.Data(), a.pre, rows, F, D)
	k.LinearBackwardTo(dln, bl.Fc1W.Grad, bl.Fc1B.Grad, dpre, a.ln, bl.Fc1W.Data(), rows, D, F)
	k.LayerNormBackward(dh, bl.Norm2W.Grad, bl.Norm2B.Grad, dln, h, bl.Norm2W.Data(), a.mean, a.rstd, rows, D)
}

// ---- slot projection (shuffle-position): out = h + GELU(fc(LN(concat(h, E[slot])))) ----

type posProjActs struct{ cat, ln, mean, rstd, pre, act []float32 }

func posProjForward(ar *Arena, k kernels.Workers, eps float32, out, h, slotEmb []float32, a *posProjActs, bl *Block, rows int) {
	D, P := bl.Dim, bl.PosDim
	W := D + P
	a.cat, a.ln, a.mean, a.rstd = ar.grow(a.cat, rows*W), ar.grow(a.ln, rows*W), ar.grow(a.mean, rows), ar.grow(a.rstd, rows)
	a.pre, a.act = ar.grow(a.pre, rows*D), ar.grow(a.act, rows*D)
	for r := 0; r < rows; r++ {
		copy(a.cat[r*W:r*W+D], h[r*D:(r+1)*D])
		copy(a.cat[r*W+D:(r+1)*W], slotEmb)
	}
	pp := bl.PosProj
	k.LayerNormForward(a.ln, a.mean, a.rstd, a.cat, pp.NormW.Data(), pp.NormB.Data(), rows, W, eps)
	k.LinearForward(a.pre, a.ln, pp.FcW.Data(), pp.FcB.Data(), rows, W, D)
	k.GeluForward(a.act, a.pre)
	kernels.Add(out, h, a.act)
}

// posProjBackward also accumulates the slot embedding's gradient into dSlotEmb.
func posProjBackward(ar *Arena, k kernels.Workers, dh, dSlotEmb, dout []float32, a *posProjActs, bl *Block, rows int) {
	D, P := bl.Dim, bl.PosDim
	W := D + P
	pp := bl.PosProj
	dpre, dln, dcat := ar.Scratch(rows*D), ar.Scratch(rows*W), ar.Scratch(rows*W)
	defer ar.Recycle(dpre, dln, dcat)
	kernels.AddInPlace(dh, dout)
	k.GeluBackward(dpre, a.pre, dout)
	k.LinearBackward(dln, pp.FcW.Grad, pp.FcB.Grad, dpre, a.ln, pp.FcW.Data(), rows, W, D)
	k.LayerNormBackward(dcat, pp.NormW.Grad, pp.NormB.Grad, dln, a.cat, pp.NormW.Data(), a.mean, a.rstd, rows, W)
	for r := 0; r < rows; r++ {
		kernels.AddInPlace(dh[r*D:(r+1)*D], dcat[r*W:r*W+D])
		kernels.AddInPlace(dSlotEmb, dcat[r*W+D:(r+1)*W])
	}
}

// ---- classifier head on the class token: logits = W·LN(h[b,0]) + b ----

type headActs struct{ cls, ln, mean, rstd, logits []float32 }

func headForward(ar *Arena, k kernels.Workers, eps float32, h []float32, a *headActs, hd *Head, B, T, D, classes int) {
	a.cls, a.ln, a.mean, a.rstd = ar.grow(a.cls, B*D), ar.grow(a.ln, B*D), ar.grow(a.mean, B), ar.grow(a.rstd, B)
	a.logits = ar.grow(a.logits, B*classes)
	for b := 0; b < B; b++ {
		copy(a.cls[b*D:(b+1)*D], h[b*T*D:b*T*D+D])
	}
	k.LayerNormForward(a.ln, a.mean, a.rstd, a.cls, hd.NormW.Data(), hd.NormB.Data(), B, D, eps)
	k.LinearForward(a.logits, a.ln, hd.W.Data(), hd.B.Data(), B, D, classes)
}

func headBackward(ar *Arena, k kernels.Workers, dh, dlogits []float32, a *headActs, hd *Head, B, T, D, classes int) {
	dln, dcls := ar.Scratch(B*D), ar.Scratch(B*D)
	defer ar.Recycle(dln, dcls)
	k.LinearBackward(dln, hd.W.Grad, hd.B.Grad, dlogits, a.ln, hd.W.Data(), B, D, classes)
	k.LayerNormBackward(dcls, hd.NormW.Grad, hd.NormB.Grad, dln, a.cls, hd.NormW.Data(), a.mean, a.rstd, B, D)
	for b := 0; b < B; b++ {
		kernels.AddInPlace(dh[b*T*D:b*T*D+D], dcls[b*D:(b+1)*D])
	}
}

// ---- slot prediction head (shuffle-predict): logits = fc(LN(mean over tokens of h)) ----

type posHeadActs struct{ avg, ln, mean, rstd, logits []float32 }

func posHeadForward(ar *Arena, k kernels.Workers, eps float32, h []float32, a *posHeadActs, bl *Block, B, T int) {
	D, L := bl.Dim, bl.Slots
	a.avg, a.ln, a.mean, a.rstd = ar.grow(a.avg, B*D), ar.grow(a.ln, B*D), ar.grow(a.mean, B), ar.grow(a.rstd, B)
	a.logits = ar.grow(a.logits, B*L)
	inv := 1 / float32(T)
	for b := 0; b < B; b++ {
		avg := a.avg[b*D : (b+1)*D]
		kernels.Zero(avg)
		for t := 0; t < T; t++ {
			kernels.AddInPlace(avg, h[(b*T+t)*D:(b*T+t+1)*D])
		}
		kernels.Scale(avg, inv)
	}
	ph := bl.PosHead
	k.LayerNormForward(a.ln, a.mean, a.rstd, a.avg, ph.NormW.Data(), ph.NormB.Data(), B, D, eps)
	k.LinearForward(a.logits, a.ln, ph.FcW.Data(), ph.FcB.Data(), B, D, L)
}

func posHeadBackward(ar *Arena, k kernels.Workers, dh, dlogits []float32, a *posHeadActs, bl *Block, B, T int) {
	D, L := bl.Dim, bl.Slots
	ph := bl.PosHead
	dln, davg := ar.Scratch(B*D), ar.Scratch(B*D)
	defer ar.Recycle(dln, davg)
	k.LinearBackward(dln, ph.FcW.Grad, ph.FcB.Grad, dlogits, a.ln, ph.FcW.Data(), B, D, L)
	k.LayerNormBackward(davg, ph.NormW.Grad, ph.NormB.Grad, dln, a.avg, ph.NormW.Data(), a.mean, a.rstd, B, D)
	kernels.Scale(davg, 1/float32(T))
	for b := 0; b < B; b++ {
		for t := 0; t < T; t++ {
			kernels.AddInPlace(dh[(b*T+t)*D:(b*T+t+1)*D], davg[b*D:(b+1)*D])
		}
	}
}
