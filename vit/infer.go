package vit

// Runner evaluates plans without a tape, reusing its buffers across calls.
// It is not safe for concurrent use; the kernels already use every core.
type Runner struct {
	m      *Model
	h, tmp []float32
	patch  patchActs
	attn   attnActs
	mlp    mlpActs
	pos    posProjActs
	head   headActs
}

// NewRunner prepares tape-free inference with m's stem and head.
func NewRunner(m *Model) *Runner { return &Runner{m: m} }

// Logits runs B normalised images through the plan and returns the logits
// [B, classes]; the slice is reused by the next call. The plan must pass
// m.Check.
func (r *Runner) Logits(x []float32, B int, plan Plan) []float32 {
	c := r.m.Config
	T, D := c.Tokens(), c.Dim
	rows := B * T
	r.h, r.tmp = grow(r.h, rows*D), grow(r.tmp, rows*D)
	patchForward(r.h, x, &r.patch, r.m.Stem, c, B)
	for slot, bl := range plan {
		if bl.PosProj != nil {
			P := bl.PosDim
			posProjForward(r.tmp, r.h, r.m.Stem.LayerPos.Data()[slot*P:(slot+1)*P], &r.pos, bl, rows)
			r.h, r.tmp = r.tmp, r.h
		}
		attnForward(r.tmp, r.h, &r.attn, bl, B, T)
		mlpForward(r.h, r.tmp, &r.mlp, bl, rows)
	}
	headForward(r.h, &r.head, r.m.Head, B, T, D, c.Classes)
	return r.head.logits
}
