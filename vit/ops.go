package vit

import (
	"fmt"
	"runtime/debug"
	"slices"
	"sync"

	"github.com/frankenvit/frankenvit/vit/kernels"
	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
)

// The fused spago operators of the training graph, one per sub-layer, over
// the forward/backward pairs of layers.go. This file and graph.go are the
// only ones that know spago: the rest of the package works on Param's
// float32 slices. An operator with parameters lists one shared leaf that
// requires gradients (needsGrad) among its operands so spago runs its
// backward; the parameters' gradients go straight into Param.Grad.
//
// Each operator implements fusedOp, and guardedOp adapts it to spago's
// ag.AutoGradFunction. spago ends the process (log.Fatalf) when an operator
// returns an error, and runs Backward on goroutines where a panic ends it
// too; so guardedOp never returns an error and lets no panic escape: a
// failure is recorded on the Step (see Step.Err) and the operator yields a
// harmless value, zeros of the right shape.
//
// spago counts one pending gradient per (consumer, operand) edge, so every
// backward must give each activation input exactly one gradient, even a zero
// one, even when it fails; otherwise the backward pass waits forever.
// guardedOp does the handing over, so an operator's backward only returns
// its inputs' gradients.

// fusedOp is one fused operator.
type fusedOp interface {
	// name is the operator's kind, e.g. "attention"; errors and the test hook use it.
	name() string
	// inputs are the activation operands, params the parameters whose
	// gradients the operator's backward adds into.
	inputs() []mat.Tensor
	params() []*Param
	// forward computes the value; zero is a harmless value of the same shape.
	forward() mat.Tensor
	zero() mat.Tensor
	// backward adds the parameters' gradients into Param.Grad and returns
	// one gradient per input (nil: zero).
	backward(gy mat.Tensor) []mat.Tensor
}

// guardedOp adapts a fusedOp to spago: failures go to st instead of spago.
type guardedOp struct {
	f  fusedOp
	st *Step
}

// failHook, set by tests only, makes an operator fail: it runs before each
// operator's forward and backward, and an error it returns (or a panic in
// it) counts as that operator's failure.
var failHook func(op fusedOp, phase string) error

func run(st *Step, f fusedOp) mat.Tensor { return ag.NewOperator(&guardedOp{f: f, st: st}).Run() }

// needsGrad is the operand that tells spago an operator with parameters
// needs a backward pass. Parameters are not spago nodes: spago only asks an
// operand whether it requires gradients (for an Operator it also waits for
// its gradient), and the fused operators add the parameters' gradients
// straight into Param.Grad, so one shared leaf that requires gradients
// stands for all of them. It is only ever read.
var needsGrad mat.Tensor = mat.NewDense[float32](mat.WithShape(1, 1), mat.WithGrad(true))

func (g *guardedOp) Operands() []mat.Tensor {
	ins := g.f.inputs()
	if len(g.f.params()) == 0 {
		return ins
	}
	return append(append(make([]mat.Tensor, 0, len(ins)+1), ins...), needsGrad)
}

func (g *guardedOp) Forward() (value mat.Tensor, _ error) {
	defer func() {
		if r := recover(); r != nil {
			g.st.fail(g.f, "forward", fmt.Errorf("panic: %v", r), debug.Stack())
			value = g.f.zero()
		}
	}()
	if failHook != nil {
		if err := failHook(g.f, "forward"); err != nil {
			g.st.fail(g.f, "forward", err, nil)
			return g.f.zero(), nil
		}
	}
	return g.f.forward(), nil
}

func (g *guardedOp) Backward(gy mat.Tensor) error {
	ins := g.f.inputs()
	grads := g.backward(gy)
	for i, in := range ins {
		var d mat.Tensor
		if i < len(grads) {
			d = grads[i]
		}
		if d == nil || !slices.Equal(d.Shape(), in.Shape()) {
			if d != nil {
				g.st.fail(g.f, "backward", fmt.Errorf("gradient of input %d has shape %v, the input %v", i, d.Shape(), in.Shape()), nil)
			}
			d = zeroGrad(in)
		}
		in.AccGrad(d)
	}
	return nil
}

// backward runs the operator's backward; nil after a failure.
func (g *guardedOp) backward(gy mat.Tensor) (grads []mat.Tensor) {
	defer func() {
		if r := recover(); r != nil {
			g.st.fail(g.f, "backward", fmt.Errorf("panic: %v", r), debug.Stack())
			grads = nil
		}
		if t, ok := g.f.(interface{ gradTurn() *gradTurn }); ok {
			t.gradTurn().end() // a no-op when the operator ended its turn; else later turns would wait forever
		}
	}()
	if failHook != nil {
		if err := failHook(g.f, "backward"); err != nil {
			g.st.fail(g.f, "backward", err, nil)
			return nil
		}
	}
	return g.f.backward(gy)
}

// activation is the value of a fused operator: a matrix whose gradient is
// accumulated in place. spago's Dense clones the first gradient it receives
// and adds later ones through generic code; the fused operators hand over a
// freshly computed gradient buffer that nobody touches afterwards, so the
// first one is adopted as it is and later ones are added with the SIMD kernel.
type activation struct {
	*mat.Dense[float32]
	mu   sync.Mutex
	grad *mat.Dense[float32]
}

func newActivation(data []float32, rows, cols int) *activation {
	return &activation{Dense: wrap(data, rows, cols)}
}

func (a *activation) Value() mat.Tensor { return a }

func (a *activation) Grad() mat.Tensor {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.grad == nil {
		return nil
	}
	return a.grad
}

func (a *activation) HasGrad() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.grad != nil
}

func (a *activation) AccGrad(g mat.Tensor) {
	d, ok := g.(*mat.Dense[float32])
	if !ok {
		d = wrap(append([]float32(nil), g.Data().F32()...), a.Dense.Shape()[0], a.Dense.Shape()[1])
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.grad == nil {
		a.grad = d
		return
	}
	kernels.AddInPlace(a.grad.Data().F32(), d.Data().F32())
}

func (a *activation) ZeroGrad() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.grad = nil
}

// locked runs fn holding mu, which a panic in fn releases.
func locked(mu *sync.Mutex, fn func()) {
	mu.Lock()
	defer mu.Unlock()
	fn()
}

func wrap(data []float32, rows, cols int) *mat.Dense[float32] {
	return mat.NewDense[float32](mat.WithShape(rows, cols), mat.WithBacking(data))
}

// zeroGrad is a zero gradient of x's shape (every tensor of the graph is a matrix).
func zeroGrad(x mat.Tensor) mat.Tensor {
	shape := x.Shape()
	return wrap(make([]float32, x.Size()), shape[0], shape[1])
}

func zeroActivation(rows, cols int) mat.Tensor {
	return newActivation(make([]float32, rows*cols), rows, cols)
}

func f32(t mat.Tensor) []float32 { return t.Value().Data().F32() }

// patchEmbedOp: images -> h [B*T, D].
type patchEmbedOp struct {
	ar   *Arena
	stem *Stem
	cfg  Config
	x    []float32
	B    int
	acts patchActs
}

func (o *patchEmbedOp) name() string         { return "patch embedding" }
func (o *patchEmbedOp) inputs() []mat.Tensor { return nil }
func (o *patchEmbedOp) params() []*Param     { return o.stem.params }
func (o *patchEmbedOp) zero() mat.Tensor     { return zeroActivation(o.B*o.cfg.Tokens(), o.cfg.Dim) }
func (o *patchEmbedOp) forward() mat.Tensor {
	T, D := o.cfg.Tokens(), o.cfg.Dim
	h := o.ar.Take(o.B * T * D)
	patchForward(o.ar, o.ar.workers(), h, o.x, &o.acts, o.stem, o.cfg, o.B)
	return newActivation(h, o.B*T, D)
}

func (o *patchEmbedOp) backward(gy mat.Tensor) []mat.Tensor {
	locked(&o.stem.mu, func() { patchBackward(o.ar, o.ar.workers(), f32(gy), &o.acts, o.stem, o.cfg, o.B) })
	return nil
}

// attnOp: h -> h + attention(h).
type attnOp struct {
	ar   *Arena
	eps  float32 // the model's LayerNorm epsilon
	h    mat.Tensor
	bl   *Block
	B, T int
	acts attnActs
}

func (o *attnOp) name() string         { return "attention" }
func (o *attnOp) block() *Block        { return o.bl }
func (o *attnOp) inputs() []mat.Tensor { return []mat.Tensor{o.h} }
func (o *attnOp) params() []*Param     { return o.bl.params }
func (o *attnOp) zero() mat.Tensor     { return zeroActivation(o.B*o.T, o.bl.Dim) }

func (o *attnOp) forward() mat.Tensor {
	out := o.ar.Take(o.B * o.T * o.bl.Dim)
	attnForward(o.ar, o.ar.workers(), o.eps, out, f32(o.h), &o.acts, o.bl, o.B, o.T)
	return newActivation(out, o.B*o.T, o.bl.Dim)
}

func (o *attnOp) backward(gy mat.Tensor) []mat.Tensor {
	dh := o.ar.Take(o.B * o.T * o.bl.Dim) // set by attnBackward
	locked(&o.bl.mu, func() { attnBackward(o.ar, o.ar.workers(), dh, f32(gy), f32(o.h), &o.acts, o.bl, o.B, o.T) })
	return []mat.Tensor{wrap(dh, o.B*o.T, o.bl.Dim)}
}

// mlpOp: h -> h + MLP(h).
type mlpOp struct {
	ar   *Arena
	eps  float32 // the model's LayerNorm epsilon
	h    mat.Tensor
	bl   *Block
	rows int
	acts mlpActs
}

func (o *mlpOp) name() string         { return "mlp" }
func (o *mlpOp) block() *Block        { return o.bl }
func (o *mlpOp) inputs() []mat.Tensor { return []mat.Tensor{o.h} }
func (o *mlpOp) params() []*Param     { return o.bl.params }
func (o *mlpOp) zero() mat.Tensor     { return zeroActivation(o.rows, o.bl.Dim) }

func (o *mlpOp) forward() mat.Tensor {
	out := o.ar.Take(o.rows * o.bl.Dim)
	mlpForward(o.ar, o.ar.workers(), o.eps, out, f32(o.h), &o.acts, o.bl, o.rows)
	return newActivation(out, o.rows, o.bl.Dim)
}

func (o *mlpOp) backward(gy mat.Tensor) []mat.Tensor {
	dh := o.ar.Take(o.rows * o.bl.Dim) // set by mlpBackward
	locked(&o.bl.mu, func() { mlpBackward(o.ar, o.ar.workers(), dh, f32(gy), f32(o.h), &o.acts, o.bl, o.rows) })
	return []mat.Tensor{wrap(dh, o.rows, o.bl.Dim)}
}

// posProjOp: h -> h + GELU(fc(LN(concat(h, E[slot])))), E from the stem.
type posProjOp struct {
	ar   *Arena
	eps  float32 // the model's LayerNorm epsilon
	h    mat.Tensor
	bl   *Block
	stem *Stem
	slot int
	rows int
	acts posProjActs
	turn gradTurn // after the previous group's op at the same slot: the slot-embedding row is shared
}

func (o *posProjOp) name() string        { return "slot projection" }
func (o *posProjOp) block() *Block       { return o.bl }
func (o *posProjOp) gradTurn() *gradTurn { return &o.turn }
func (o *posProjOp) inputs() []mat.Tensor {
	return []mat.Tensor{o.h}
}
func (o *posProjOp) params() []*Param {
	return append([]*Param{o.stem.LayerPos}, o.bl.params...)
}
func (o *posProjOp) zero() mat.Tensor { return zeroActivation(o.rows, o.bl.Dim) }

func (o *posProjOp) slotRow(x []float32) []float32 {
	P := o.bl.PosDim
	return x[o.slot*P : (o.slot+1)*P]
}

func (o *posProjOp) forward() mat.Tensor {
	out := o.ar.Take(o.rows * o.bl.Dim)
	posProjForward(o.ar, o.ar.workers(), o.eps, out, f32(o.h), o.slotRow(o.stem.LayerPos.Data()), &o.acts, o.bl, o.rows)
	return newActivation(out, o.rows, o.bl.Dim)
}

func (o *posProjOp) backward(gy mat.Tensor) []mat.Tensor {
	dh := o.ar.Zeros(o.rows * o.bl.Dim)
	dE := o.ar.Zeros(o.bl.PosDim)
	locked(&o.bl.mu, func() { posProjBackward(o.ar, o.ar.workers(), dh, dE, f32(gy), &o.acts, o.bl, o.rows) })
	o.turn.wait()
	locked(&o.stem.mu, func() { kernels.AddInPlace(o.slotRow(o.stem.LayerPos.Grad), dE) })
	o.turn.end()
	return []mat.Tensor{wrap(dh, o.rows, o.bl.Dim)}
}

// gradTurn makes operators that add into one shared gradient take turns in
// a fixed order, so the sum does not depend on how spago schedules backward.
// The zero gradTurn (an operator built alone, as in tests) neither waits nor
// can be waited for. Only the goroutine running its operator's backward
// ends a turn; ending it twice is a no-op.
type gradTurn struct {
	after *gradTurn     // the turn that goes first, if any
	done  chan struct{} // closed once this turn's addition is in
	ended bool
}

func newGradTurn() gradTurn { return gradTurn{done: make(chan struct{})} }

func (t *gradTurn) wait() {
	if t.after != nil {
		<-t.after.done
	}
}

func (t *gradTurn) end() {
	if t.done != nil && !t.ended {
		t.ended = true
		close(t.done)
	}
}

// crossEntropy is the loss tail shared by the class head and the slot head:
// scale * sum over rows of -log softmax(logits)[target].
//
// With group > 0 and smaller than the row, a row's classes are consecutive
// groups of group logits (a multi-task head: one group per task) and the
// softmax runs over the target's own group only, rows g*group ..
// g*group+group-1 with g = target/group: the other groups' probabilities
// and gradients are exactly zero. group 0 (or the whole row) is the plain
// softmax over every class.
type crossEntropy struct {
	ar            *Arena
	targets       []int32
	scale         float32
	group         int
	probs, losses []float32
}

// grouped reports whether rows of classes logits split into several groups.
func (c *crossEntropy) grouped(classes int) bool { return c.group > 0 && c.group < classes }

// groupOf is the first logit of row r's target group and the target within it.
func (c *crossEntropy) groupOf(r, classes int) (start int, target int32) {
	t := int(c.targets[r])
	if t < 0 || t >= classes {
		panic(fmt.Sprintf("cross-entropy: target %d of row %d outside [0,%d)", t, r, classes))
	}
	g := t / c.group
	return r*classes + g*c.group, int32(t - g*c.group)
}

func (c *crossEntropy) forward(logits []float32, rows, classes int) float32 {
	if !c.grouped(classes) {
		c.probs, c.losses = c.ar.Take(rows*classes), c.ar.Take(rows)
		kernels.SoftmaxCrossEntropyForward(c.probs, c.losses, logits, c.targets, rows, classes)
	} else {
		if len(c.targets) < rows {
			panic(fmt.Sprintf("cross-entropy: %d targets for %d rows", len(c.targets), rows))
		}
		c.probs, c.losses = c.ar.Zeros(rows*classes), c.ar.Take(rows)
		n := c.group
		for r := 0; r < rows; r++ {
			s, t := c.groupOf(r, classes)
			kernels.SoftmaxCrossEntropyForward(c.probs[s:s+n], c.losses[r:r+1], logits[s:s+n], []int32{t}, 1, n)
		}
	}
	var sum float64
	for _, l := range c.losses {
		sum += float64(l)
	}
	return c.scale * float32(sum)
}

func (c *crossEntropy) backward(gy float32, rows, classes int) []float32 {
	d := c.ar.Zeros(rows * classes)
	if !c.grouped(classes) {
		kernels.SoftmaxCrossEntropyBackward(d, c.probs, c.targets, rows, classes, gy*c.scale)
		return d
	}
	n := c.group
	for r := 0; r < rows; r++ {
		s, t := c.groupOf(r, classes)
		kernels.SoftmaxCrossEntropyBackward(d[s:s+n], c.probs[s:s+n], []int32{t}, 1, n, gy*c.scale)
	}
	return d
}

// headLossOp: h -> scale * sum_b CE(head(h[b,0]), label_b). Logits stay
// readable for accuracy. A multi-task model's loss is the cross-entropy over
// the label's own task group (ce.group = cfg.ClassesPerTask()).
type headLossOp struct {
	ar   *Arena
	h    mat.Tensor
	head *Head
	cfg  Config
	B    int
	ce   crossEntropy
	ent  *entropyLoss // non-nil: the prediction entropy instead of ce (ForwardEntropy)
	acts headActs
}

func (o *headLossOp) name() string         { return "class head loss" }
func (o *headLossOp) inputs() []mat.Tensor { return []mat.Tensor{o.h} }
func (o *headLossOp) params() []*Param     { return o.head.params }
func (o *headLossOp) zero() mat.Tensor     { return mat.Scalar[float32](0) }

func (o *headLossOp) forward() mat.Tensor {
	c := o.cfg
	headForward(o.ar, o.ar.workers(), c.Eps(), f32(o.h), &o.acts, o.head, o.B, c.Tokens(), c.Dim, c.Classes)
	if o.ent != nil {
		return mat.Scalar(o.ent.forward(o.acts.logits, o.B, c.Classes))
	}
	return mat.Scalar(o.ce.forward(o.acts.logits, o.B, c.Classes))
}

func (o *headLossOp) backward(gy mat.Tensor) []mat.Tensor {
	c := o.cfg
	var dlogits []float32
	if o.ent != nil {
		dlogits = o.ent.backward(f32(gy)[0], o.B, c.Classes)
	} else {
		dlogits = o.ce.backward(f32(gy)[0], o.B, c.Classes)
	}
	dh := o.ar.Zeros(o.B * c.Tokens() * c.Dim)
	locked(&o.head.mu, func() {
		headBackward(o.ar, o.ar.workers(), dh, dlogits, &o.acts, o.head, o.B, c.Tokens(), c.Dim, c.Classes)
	})
	return []mat.Tensor{wrap(dh, o.B*c.Tokens(), c.Dim)}
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
	eps  float32 // the model's LayerNorm epsilon
	h    mat.Tensor
	bl   *Block
	B, T int
	ce   crossEntropy
	acts posHeadActs
	turn gradTurn // after the same block's slot head at a later slot, if any
}

func (o *posHeadLossOp) name() string         { return "slot head loss" }
func (o *posHeadLossOp) block() *Block        { return o.bl }
func (o *posHeadLossOp) gradTurn() *gradTurn  { return &o.turn }
func (o *posHeadLossOp) inputs() []mat.Tensor { return []mat.Tensor{o.h} }
func (o *posHeadLossOp) params() []*Param     { return o.bl.params }
func (o *posHeadLossOp) zero() mat.Tensor     { return mat.Scalar[float32](0) }

func (o *posHeadLossOp) forward() mat.Tensor {
	posHeadForward(o.ar, o.ar.workers(), o.eps, f32(o.h), &o.acts, o.bl, o.B, o.T)
	return mat.Scalar(o.ce.forward(o.acts.logits, o.B, o.bl.Slots))
}

func (o *posHeadLossOp) backward(gy mat.Tensor) []mat.Tensor {
	dlogits := o.ce.backward(f32(gy)[0], o.B, o.bl.Slots)
	dh := o.ar.Zeros(o.B * o.T * o.bl.Dim)
	o.turn.wait()
	locked(&o.bl.mu, func() { posHeadBackward(o.ar, o.ar.workers(), dh, dlogits, &o.acts, o.bl, o.B, o.T) })
	o.turn.end()
	return []mat.Tensor{wrap(dh, o.B*o.T, o.bl.Dim)}
}

// gatherOp takes the token rows of some samples: [B*T, D] -> [len(samples)*T, D].
type gatherOp struct {
	ar      *Arena
	h       mat.Tensor
	samples []int
	B, T, D int
}

func (o *gatherOp) name() string         { return "gather" }
func (o *gatherOp) inputs() []mat.Tensor { return []mat.Tensor{o.h} }
func (o *gatherOp) params() []*Param     { return nil }
func (o *gatherOp) zero() mat.Tensor     { return zeroActivation(len(o.samples)*o.T, o.D) }

func (o *gatherOp) forward() mat.Tensor {
	n := o.T * o.D
	src := f32(o.h)
	out := o.ar.Take(len(o.samples) * n)
	for i, s := range o.samples {
		copy(out[i*n:(i+1)*n], src[s*n:(s+1)*n])
	}
	return newActivation(out, len(o.samples)*o.T, o.D)
}

func (o *gatherOp) backward(gy mat.Tensor) []mat.Tensor {
	n := o.T * o.D
	g := f32(gy)
	dh := o.ar.Zeros(o.B * n)
	for i, s := range o.samples {
		kernels.AddInPlace(dh[s*n:(s+1)*n], g[i*n:(i+1)*n])
	}
	return []mat.Tensor{wrap(dh, o.B*o.T, o.D)}
}

// scatterOp reassembles a batch from the outputs of sample groups (the inverse of gatherOp).
type scatterOp struct {
	ar      *Arena
	parts   []mat.Tensor
	groups  [][]int
	B, T, D int
}

func (o *scatterOp) name() string         { return "scatter" }
func (o *scatterOp) inputs() []mat.Tensor { return o.parts }
func (o *scatterOp) params() []*Param     { return nil }
func (o *scatterOp) zero() mat.Tensor     { return zeroActivation(o.B*o.T, o.D) }

func (o *scatterOp) forward() mat.Tensor {
	n := o.T * o.D
	out := o.ar.Take(o.B * n) // the groups cover every sample
	for g, part := range o.parts {
		src := f32(part)
		for i, s := range o.groups[g] {
			copy(out[s*n:(s+1)*n], src[i*n:(i+1)*n])
		}
	}
	return newActivation(out, o.B*o.T, o.D)
}

func (o *scatterOp) backward(gy mat.Tensor) []mat.Tensor {
	n := o.T * o.D
	g := f32(gy)
	grads := make([]mat.Tensor, len(o.parts))
	for gi := range o.parts {
		d := o.ar.Take(len(o.groups[gi]) * n)
		for i, s := range o.groups[gi] {
			copy(d[i*n:(i+1)*n], g[s*n:(s+1)*n])
		}
		grads[gi] = wrap(d, len(o.groups[gi])*o.T, o.D)
	}
	return grads
}

// sumOp adds scalar losses.
type sumOp struct{ xs []mat.Tensor }

func (o *sumOp) name() string         { return "loss sum" }
func (o *sumOp) inputs() []mat.Tensor { return o.xs }
func (o *sumOp) params() []*Param     { return nil }
func (o *sumOp) zero() mat.Tensor     { return mat.Scalar[float32](0) }

func (o *sumOp) forward() mat.Tensor {
	var s float32
	for _, x := range o.xs {
		s += f32(x)[0]
	}
	return mat.Scalar(s)
}

func (o *sumOp) backward(gy mat.Tensor) []mat.Tensor {
	grads := make([]mat.Tensor, len(o.xs))
	for i := range o.xs {
		grads[i] = mat.Scalar(f32(gy)[0])
	}
	return grads
}
