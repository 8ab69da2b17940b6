package vit

import (
	"github.com/frankenvit/frankenvit/vit/kernels"
	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
)

// The fused spago operators of the training graph, one per sub-layer. Each
// implements ag.AutoGradFunction over the forward/backward pairs of
// layers.go. Parameters are listed among the operands so spago knows the
// graph needs gradients; their gradients go straight into Param.Grad.
//
// spago counts one pending gradient per (consumer, operand) edge, so every
// Backward must call AccGrad exactly once on each activation operand, even
// when that gradient is zero; otherwise the backward pass waits forever.

func wrap(data []float32, rows, cols int) *mat.Dense[float32] {
	return mat.NewDense[float32](mat.WithShape(rows, cols), mat.WithBacking(data))
}

func f32(t mat.Tensor) []float32 { return t.Value().Data().F32() }

func nodes(params []*Param) []mat.Tensor {
	out := make([]mat.Tensor, len(params))
	for i, p := range params {
		out[i] = p.Node
	}
	return out
}

func run(fn ag.AutoGradFunction) mat.Tensor { return ag.NewOperator(fn).Run() }

// patchEmbedOp: images -> h [B*T, D].
type patchEmbedOp struct {
	ar   *Arena
	stem *Stem
	cfg  Config
	x    []float32
	B    int
	acts patchActs
}

func (o *patchEmbedOp) Operands() []mat.Tensor { return nodes(o.stem.params) }

func (o *patchEmbedOp) Forward() (mat.Tensor, error) {
	T, D := o.cfg.Tokens(), o.cfg.Dim
	h := o.ar.Take(o.B * T * D)
	patchForward(o.ar, h, o.x, &o.acts, o.stem, o.cfg, o.B)
	return newActivation(h, o.B*T, D), nil
}

func (o *patchEmbedOp) Backward(gy mat.Tensor) error {
	o.stem.mu.Lock()
	defer o.stem.mu.Unlock()
	patchBackward(o.ar, f32(gy), &o.acts, o.stem, o.cfg, o.B)
	return nil
}

// attnOp: h -> h + attention(h).
type attnOp struct {
	ar   *Arena
	h    mat.Tensor
	bl   *Block
	B, T int
	acts attnActs
}

func (o *attnOp) Operands() []mat.Tensor { return append([]mat.Tensor{o.h}, nodes(o.bl.params)...) }

func (o *attnOp) Forward() (mat.Tensor, error) {
	out := o.ar.Take(o.B * o.T * o.bl.Dim)
	attnForward(o.ar, out, f32(o.h), &o.acts, o.bl, o.B, o.T)
	return newActivation(out, o.B*o.T, o.bl.Dim), nil
}

func (o *attnOp) Backward(gy mat.Tensor) error {
	dh := o.ar.Zeros(o.B * o.T * o.bl.Dim)
	o.bl.mu.Lock()
	attnBackward(o.ar, dh, f32(gy), f32(o.h), &o.acts, o.bl, o.B, o.T)
	o.bl.mu.Unlock()
	o.h.AccGrad(wrap(dh, o.B*o.T, o.bl.Dim))
	return nil
}

// mlpOp: h -> h + MLP(h).
type mlpOp struct {
	ar   *Arena
	h    mat.Tensor
	bl   *Block
	rows int
	acts mlpActs
}

func (o *mlpOp) Operands() []mat.Tensor { return append([]mat.Tensor{o.h}, nodes(o.bl.params)...) }

func (o *mlpOp) Forward() (mat.Tensor, error) {
	out := o.ar.Take(o.rows * o.bl.Dim)
	mlpForward(o.ar, out, f32(o.h), &o.acts, o.bl, o.rows)
	return newActivation(out, o.rows, o.bl.Dim), nil
}

func (o *mlpOp) Backward(gy mat.Tensor) error {
	dh := o.ar.Zeros(o.rows * o.bl.Dim)
	o.bl.mu.Lock()
	mlpBackward(o.ar, dh, f32(gy), f32(o.h), &o.acts, o.bl, o.rows)
	o.bl.mu.Unlock()
	o.h.AccGrad(wrap(dh, o.rows, o.bl.Dim))
	return nil
}

// posProjOp: h -> h + GELU(fc(LN(concat(h, E[slot])))), E from the stem.
type posProjOp struct {
	ar   *Arena
	h    mat.Tensor
	bl   *Block
	stem *Stem
	slot int
	rows int
	acts posProjActs
	turn gradTurn // after the previous group's op at the same slot: the slot-embedding row is shared
}

func (o *posProjOp) Operands() []mat.Tensor {
	return append([]mat.Tensor{o.h, o.stem.LayerPos.Node}, nodes(o.bl.params)...)
}

func (o *posProjOp) slotRow(x []float32) []float32 {
	P := o.bl.PosDim
	return x[o.slot*P : (o.slot+1)*P]
}

func (o *posProjOp) Forward() (mat.Tensor, error) {
	out := o.ar.Take(o.rows * o.bl.Dim)
	posProjForward(o.ar, out, f32(o.h), o.slotRow(o.stem.LayerPos.Data()), &o.acts, o.bl, o.rows)
	return newActivation(out, o.rows, o.bl.Dim), nil
}

func (o *posProjOp) Backward(gy mat.Tensor) error {
	dh := o.ar.Zeros(o.rows * o.bl.Dim)
	dE := o.ar.Zeros(o.bl.PosDim)
	o.bl.mu.Lock()
	posProjBackward(o.ar, dh, dE, f32(gy), &o.acts, o.bl, o.rows)
	o.bl.mu.Unlock()
	o.turn.wait()
	o.stem.mu.Lock()
	kernels.AddInPlace(o.slotRow(o.stem.LayerPos.Grad), dE)
	o.stem.mu.Unlock()
	o.turn.end()
	o.h.AccGrad(wrap(dh, o.rows, o.bl.Dim))
	return nil
}

// gradTurn makes operators that add into one shared gradient take turns in
// a fixed order, so the sum does not depend on how spago schedules backward.
// The zero gradTurn (an operator built alone, as in tests) neither waits nor
// can be waited for.
type gradTurn struct {
	after *gradTurn     // the turn that goes first, if any
	done  chan struct{} // closed once this turn's addition is in
}

func newGradTurn() gradTurn { return gradTurn{done: make(chan struct{})} }

func (t *gradTurn) wait() {
	if t.after != nil {
		<-t.after.done
	}
}

func (t *gradTurn) end() {
	if t.done != nil {
		close(t.done)
	}
}

// crossEntropy is the loss tail shared by the class head and the slot head:
// scale * sum over rows of -log softmax(logits)[target].
type crossEntropy struct {
	ar            *Arena
	targets       []int32
	scale         float32
	probs, losses []float32
}

func (c *crossEntropy) forward(logits []float32, rows, classes int) float32 {
	c.probs, c.losses = c.ar.Take(rows*classes), c.ar.Take(rows)
	kernels.SoftmaxCrossEntropyForward(c.probs, c.losses, logits, c.targets, rows, classes)
	var sum float64
	for _, l := range c.losses {
		sum += float64(l)
	}
	return c.scale * float32(sum)
}

func (c *crossEntropy) backward(gy float32, rows, classes int) []float32 {
	d := c.ar.Zeros(rows * classes)
	kernels.SoftmaxCrossEntropyBackward(d, c.probs, c.targets, rows, classes, gy*c.scale)
	return d
}

// headLossOp: h -> scale * sum_b CE(head(h[b,0]), label_b). Logits stay readable for accuracy.
type headLossOp struct {
	ar   *Arena
	h    mat.Tensor
	head *Head
	cfg  Config
	B    int
	ce   crossEntropy
	acts headActs
}

func (o *headLossOp) Operands() []mat.Tensor {
	return append([]mat.Tensor{o.h}, nodes(o.head.params)...)
}

func (o *headLossOp) Forward() (mat.Tensor, error) {
	c := o.cfg
	headForward(o.ar, f32(o.h), &o.acts, o.head, o.B, c.Tokens(), c.Dim, c.Classes)
	return mat.Scalar(o.ce.forward(o.acts.logits, o.B, c.Classes)), nil
}

func (o *headLossOp) Backward(gy mat.Tensor) error {
	c := o.cfg
	dlogits := o.ce.backward(f32(gy)[0], o.B, c.Classes)
	dh := o.ar.Zeros(o.B * c.Tokens() * c.Dim)
	o.head.mu.Lock()
	headBackward(o.ar, dh, dlogits, &o.acts, o.head, o.B, c.Tokens(), c.Dim, c.Classes)
	o.head.mu.Unlock()
	o.h.AccGrad(wrap(dh, o.B*c.Tokens(), c.Dim))
	return nil
}

// posHeadLossOp: h -> scale * sum_b CE(pos_head(mean_t h[b,t]), slot).
//
// All slot losses get their gradient at once, so the Backward of every slot
// head runs at the same time. When one block's slot head runs at several
// slots (per-sample orders), its parameter gradients are added in a fixed
// order, from the latest slot down: each op waits for the next use of the
// same head (later), which keeps training bit-reproducible.
type posHeadLossOp struct {
	ar   *Arena
	h    mat.Tensor
	bl   *Block
	B, T int
	ce   crossEntropy
	acts posHeadActs
	turn gradTurn // after the same block's slot head at a later slot, if any
}

func (o *posHeadLossOp) Operands() []mat.Tensor {
	return append([]mat.Tensor{o.h}, nodes(o.bl.params)...)
}

func (o *posHeadLossOp) Forward() (mat.Tensor, error) {
	posHeadForward(o.ar, f32(o.h), &o.acts, o.bl, o.B, o.T)
	return mat.Scalar(o.ce.forward(o.acts.logits, o.B, o.bl.Slots)), nil
}

func (o *posHeadLossOp) Backward(gy mat.Tensor) error {
	dlogits := o.ce.backward(f32(gy)[0], o.B, o.bl.Slots)
	dh := o.ar.Zeros(o.B * o.T * o.bl.Dim)
	o.turn.wait()
	o.bl.mu.Lock()
	posHeadBackward(o.ar, dh, dlogits, &o.acts, o.bl, o.B, o.T)
	o.bl.mu.Unlock()
	o.turn.end()
	o.h.AccGrad(wrap(dh, o.B*o.T, o.bl.Dim))
	return nil
}

// gatherOp takes the token rows of some samples: [B*T, D] -> [len(samples)*T, D].
type gatherOp struct {
	ar      *Arena
	h       mat.Tensor
	samples []int
	B, T, D int
}

func (o *gatherOp) Operands() []mat.Tensor { return []mat.Tensor{o.h} }

func (o *gatherOp) Forward() (mat.Tensor, error) {
	n := o.T * o.D
	src := f32(o.h)
	out := o.ar.Take(len(o.samples) * n)
	for i, s := range o.samples {
		copy(out[i*n:(i+1)*n], src[s*n:(s+1)*n])
	}
	return newActivation(out, len(o.samples)*o.T, o.D), nil
}

func (o *gatherOp) Backward(gy mat.Tensor) error {
	n := o.T * o.D
	g := f32(gy)
	dh := o.ar.Zeros(o.B * n)
	for i, s := range o.samples {
		kernels.AddInPlace(dh[s*n:(s+1)*n], g[i*n:(i+1)*n])
	}
	o.h.AccGrad(wrap(dh, o.B*o.T, o.D))
	return nil
}

// scatterOp reassembles a batch from the outputs of sample groups (the inverse of gatherOp).
type scatterOp struct {
	ar      *Arena
	parts   []mat.Tensor
	groups  [][]int
	B, T, D int
}

func (o *scatterOp) Operands() []mat.Tensor { return o.parts }

func (o *scatterOp) Forward() (mat.Tensor, error) {
	n := o.T * o.D
	out := o.ar.Take(o.B * n) // the groups cover every sample
	for g, part := range o.parts {
		src := f32(part)
		for i, s := range o.groups[g] {
			copy(out[s*n:(s+1)*n], src[i*n:(i+1)*n])
		}
	}
	return newActivation(out, o.B*o.T, o.D), nil
}

func (o *scatterOp) Backward(gy mat.Tensor) error {
	n := o.T * o.D
	g := f32(gy)
	for gi, part := range o.parts {
		d := o.ar.Take(len(o.groups[gi]) * n)
		for i, s := range o.groups[gi] {
			copy(d[i*n:(i+1)*n], g[s*n:(s+1)*n])
		}
		part.AccGrad(wrap(d, len(o.groups[gi])*o.T, o.D))
	}
	return nil
}

// sumOp adds scalar losses.
type sumOp struct{ xs []mat.Tensor }

func (o *sumOp) Operands() []mat.Tensor { return o.xs }

func (o *sumOp) Forward() (mat.Tensor, error) {
	var s float32
	for _, x := range o.xs {
		s += f32(x)[0]
	}
	return mat.Scalar(s), nil
}

func (o *sumOp) Backward(gy mat.Tensor) error {
	for _, x := range o.xs {
		x.AccGrad(mat.Scalar(f32(gy)[0]))
	}
	return nil
}
