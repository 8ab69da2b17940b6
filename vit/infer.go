package vit

import "github.com/frankenvit/frankenvit/vit/kernels"

// Runner evaluates plans without a tape, reusing its buffers across calls.
// It is not safe for concurrent use; its kernel calls use Workers goroutines
// each (the zero value: every core), which a caller that runs several
// runners side by side lowers.
type Runner struct {
	Workers kernels.Workers
	m       *Model
	h, tmp  []float32
	pre     []float32 // after the slot projection
	mid     []float32 // between attention and MLP
	patch   patchActs
	attn    attnActs
	mlp     mlpActs
	pos     posProjActs
	head    headActs
}

// NewRunner prepares tape-free inference with m's stem and head.
func NewRunner(m *Model) *Runner {
	return &Runner{m: m, attn: attnActs{noProbs: true}, mlp: mlpActs{inPlace: true}}
}

// Logits runs B normalised images through the plan and returns the logits
// [B, classes]; the slice is reused by the next call. The plan must pass
// m.Check.
func (r *Runner) Logits(x []float32, B int, plan Plan) []float32 {
	n := B * r.m.Config.Tokens() * r.m.Config.Dim
	r.h, r.tmp = grow(r.h, n), grow(r.tmp, n)
	r.Embed(r.h, x, B)
	for slot, bl := range plan {
		r.RunBlock(r.tmp, r.h, B, bl, slot)
		r.h, r.tmp = r.tmp, r.h
	}
	return r.HeadLogits(r.h, B)
}

// Embed runs the stem on B images: h is [B*T, D].
func (r *Runner) Embed(h, x []float32, B int) {
	patchForward(nil, r.Workers, h, x, &r.patch, r.m.Stem, r.m.Config, B)
}

// RunBlock runs block bl at a slot on h [B*T, D], writing out (which must
// not alias h). The slot matters only to blocks with a slot projection.
func (r *Runner) RunBlock(out, h []float32, B int, bl *Block, slot int) {
	T := r.m.Config.Tokens()
	rows := B * T
	if bl.PosProj != nil {
		P := bl.PosDim
		r.pre = grow(r.pre, len(h))
		posProjForward(nil, r.Workers, r.m.Config.Eps(), r.pre, h, r.m.Stem.LayerPos.Data()[slot*P:(slot+1)*P], &r.pos, bl, rows)
		h = r.pre
	}
	r.mid = grow(r.mid, len(out))
	attnForward(nil, r.Workers, r.m.Config.Eps(), r.mid, h, &r.attn, bl, B, T)
	mlpForward(nil, r.Workers, r.m.Config.Eps(), out, r.mid, &r.mlp, bl, rows)
}

// HeadLogits applies the final LayerNorm and the classifier to the class
// tokens of h; the slice is reused by the next call.
func (r *Runner) HeadLogits(h []float32, B int) []float32 {
	c := r.m.Config
	headForward(nil, r.Workers, r.m.Config.Eps(), h, &r.head, r.m.Head, B, c.Tokens(), c.Dim, c.Classes)
	return r.head.logits
}
