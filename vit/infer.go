package vit

import "github.com/frankenvit/frankenvit/vit/kernels"

// Runner evaluates plans without a tape, reusing its buffers across calls.
// It is not safe for concurrent use; its kernel calls use Workers goroutines
// each (the zero value: every core), which a caller that runs several
// runners side by side lowers.
type Runner struct {
	Workers kernels.Workers
	// chunk is the number of images a block runs on at a time (0: from
	// chunkRows); tests set it to check that it changes no bit.
	chunk   int
	m       *Model
	h, tmp  []float32
	pre     []float32 // after the slot projection
	mid     []float32 // between attention and MLP
	ws      []float32 // the attention's and then the MLP's activations (see shareWorkspace)
	sharing bool      // attn and mlp activations currently point into ws
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
	img := r.m.Config.Tokens() * r.m.Config.Dim
	r.h = grow(r.h, B*img)
	r.Embed(r.h, x, B)
	// The whole plan runs on one chunk of images before the next, so the
	// chunk's hidden state stays in the cache from block to block.
	chunk := r.chunkImages(B)
	r.tmp = grow(r.tmp, chunk*img)
	for b0 := 0; b0 < B; b0 += chunk {
		nb := min(chunk, B-b0)
		src, dst := r.h[b0*img:(b0+nb)*img], r.tmp[:nb*img]
		for slot, bl := range plan {
			r.runBlock(dst, src, nb, bl, slot, true)
			src, dst = dst, src
		}
		if len(plan)%2 == 1 {
			copy(r.h[b0*img:], src)
		}
	}
	return r.HeadLogits(r.h, B)
}

// chunkRows is the token rows a block runs on at a time per goroutine its
// kernels may use. A batch's activations are many times the caches (the
// large speed model's MLP holds 39 MB for 256 images); chunks of about 1600
// rows keep one chunk's in them, and an evaluation worker holds a chunk's
// workspace, not a batch's. Measured on the 2-core EPYC with two runners
// side by side, as the evaluator runs them: the large model's 256-image
// batch 847 ms unchunked, 821 in chunks of 32 images, 838 of 16, 922 of 4;
// ViT-Ti's 80 images 1220 ms whole, 1210-1234 in chunks of 4-16; the large
// model's peak resident set in bench speed 904-909 -> 848-852 MB.
const chunkRows = 1600

// chunkImages is how many of B images a block runs on at a time.
func (r *Runner) chunkImages(B int) int {
	if r.chunk > 0 {
		return min(r.chunk, B)
	}
	return min(B, max(1, chunkRows*r.Workers.Count()/r.m.Config.Tokens()))
}

// Embed runs the stem on B images: h is [B*T, D].
func (r *Runner) Embed(h, x []float32, B int) {
	patchForward(nil, r.Workers, h, x, &r.patch, r.m.Stem, r.m.Config, B)
}

// RunBlock runs block bl at a slot on h [B*T, D], writing out (which must
// not alias h). The slot matters only to blocks with a slot projection.
func (r *Runner) RunBlock(out, h []float32, B int, bl *Block, slot int) {
	img := r.m.Config.Tokens() * r.m.Config.Dim
	chunk := r.chunkImages(B)
	for b0 := 0; b0 < B; b0 += chunk {
		nb := min(chunk, B-b0)
		r.runBlock(out[b0*img:(b0+nb)*img], h[b0*img:(b0+nb)*img], nb, bl, slot, true)
	}
}

// runBlock is RunBlock; with share, the attention's and the MLP's
// activations live in one workspace (the MLP overwrites the attention's), so
// only callers that read neither after the block (LinearInputs reads both)
// share.
func (r *Runner) runBlock(out, h []float32, B int, bl *Block, slot int, share bool) {
	T := r.m.Config.Tokens()
	rows := B * T
	if bl.PosProj != nil {
		P := bl.PosDim
		r.pre = grow(r.pre, len(h))
		posProjForward(nil, r.Workers, r.m.Config.Eps(), r.pre, h, r.m.Stem.LayerPos.Data()[slot*P:(slot+1)*P], &r.pos, bl, rows)
		h = r.pre
	}
	if share {
		r.shareWorkspace(rows, bl.Dim, bl.MLP)
	} else if r.sharing {
		r.attn.ln, r.attn.qkv, r.attn.att, r.mlp.ln, r.mlp.pre = nil, nil, nil, nil, nil
		r.sharing = false
	}
	r.mid = grow(r.mid, len(out))
	attnForward(nil, r.Workers, r.m.Config.Eps(), r.mid, h, &r.attn, bl, B, T)
	mlpForward(nil, r.Workers, r.m.Config.Eps(), out, r.mid, &r.mlp, bl, rows)
}

// shareWorkspace points the attention's activations (LN output, qkv, heads'
// output: 5 rows*D) and the MLP's (LN output, pre-activations: rows*(D+F))
// into one buffer: inference never needs the attention's once the MLP runs,
// and an evaluation worker holds one block's activations instead of two.
func (r *Runner) shareWorkspace(rows, D, F int) {
	rd := rows * D
	r.ws = grow(r.ws, max(5*rd, rd+rows*F))
	w := r.ws
	r.attn.ln, r.attn.qkv, r.attn.att = w[:rd:rd], w[rd:4*rd:4*rd], w[4*rd:5*rd:5*rd]
	r.mlp.ln, r.mlp.pre = w[:rd:rd], w[rd:rd+rows*F:rd+rows*F]
	r.sharing = true
}

// HeadLogits applies the final LayerNorm and the classifier to the class
// tokens of h; the slice is reused by the next call.
func (r *Runner) HeadLogits(h []float32, B int) []float32 {
	c := r.m.Config
	headForward(nil, r.Workers, r.m.Config.Eps(), h, &r.head, r.m.Head, B, c.Tokens(), c.Dim, c.Classes)
	return r.head.logits
}
