package vit

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/nlpodyssey/spago/ag"
	"github.com/nlpodyssey/spago/mat"
)

// Step is the tape of one training mini-batch.
type Step struct {
	loss      mat.Tensor // scalar: class loss + weight * mean slot loss
	head      *headLossOp
	classLoss mat.Tensor
	posLosses []mat.Tensor
	posHeads  []*posHeadLossOp
	posProjs  []*posProjOp
	posWeight float32
	ar        *Arena
	failure   atomic.Pointer[OpError] // the first operator failure
}

// ErrOperator is matched (errors.Is) by every error of a failed operator of
// the training graph.
var ErrOperator = errors.New("a training-graph operator failed")

// OpError is the failure of one operator of the training graph: the error
// it met or the panic it recovered from. The operator gave zeros instead,
// so the step's loss and gradients are meaningless.
type OpError struct {
	Op    string // the operator, e.g. "attention (block a[2])"
	Phase string // "forward" or "backward"
	Err   error  // the operator's error, or the recovered panic
	Stack []byte // where a panic happened (nil for an error)
}

func (e *OpError) Error() string {
	return fmt.Sprintf("vit: operator %s failed in %s: %v", e.Op, e.Phase, e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// Is makes every OpError match ErrOperator.
func (e *OpError) Is(target error) bool { return target == ErrOperator }

// Err is the first operator failure of the step (forward or backward), or
// nil. It is an *OpError.
func (s *Step) Err() error {
	if e := s.failure.Load(); e != nil {
		return e
	}
	return nil
}

// Backward runs the backward pass of the step's loss and returns the first
// operator failure, if any, after it; the parameters' Grad are then
// meaningless.
func (s *Step) Backward() error {
	if err := ag.Backward(s.loss); err != nil {
		return err
	}
	return s.Err()
}

// fail records a failure of operator f in phase: the error it met, with
// the stack of a recovered panic. The first failure wins. An operator built
// without a step (tests) panics instead.
func (s *Step) fail(f fusedOp, phase string, err error, stack []byte) {
	e := &OpError{Op: f.name(), Phase: phase, Err: err, Stack: stack}
	if b, ok := f.(interface{ block() *Block }); ok && b.block() != nil {
		e.Op = fmt.Sprintf("%s (block %s[%d])", e.Op, b.block().Source, b.block().Index)
	}
	if s == nil {
		panic(e)
	}
	s.failure.CompareAndSwap(nil, e)
}

// SlotLogits are the slot-head logits [n, slots] of the i-th slot head run
// in the graph (in execution order), for blocks that carry one.
func (s *Step) SlotLogits(i int) []float32 { return s.posHeads[i].acts.logits }

// Loss is the value the backward pass differentiates: the class loss plus
// posWeight times the mean slot loss.
func (s *Step) Loss() float32 { return f32(s.loss)[0] }

// ClassLoss is the batch-mean cross-entropy of the classifier.
func (s *Step) ClassLoss() float32 { return f32(s.classLoss)[0] }

// Logits of the batch, [B, classes] (valid after the forward pass).
func (s *Step) Logits() []float32 { return s.head.acts.logits }

// SlotLoss is the mean slot-prediction cross-entropy (0 without slot heads).
func (s *Step) SlotLoss() float32 {
	if len(s.posLosses) == 0 || s.posWeight == 0 {
		return 0
	}
	var sum float32
	for _, l := range s.posLosses {
		sum += f32(l)[0]
	}
	return sum / s.posWeight
}

// Forward builds the training graph of one batch. x holds B normalised
// images, labels their classes. plans is either one plan shared by the whole
// batch (the paper's per-batch order) or one plan per sample (all of the same
// length); slot i of sample s runs plans[s][i]. posWeight weighs the mean
// slot-prediction loss of blocks that carry a slot head.
func (m *Model) Forward(x []float32, labels []int32, B int, plans []Plan, posWeight float32) (*Step, error) {
	return m.ForwardShard(x, labels, B, B, plans, posWeight, nil)
}

// ForwardShard is Forward for B samples that are one shard of a batch of
// total samples: the losses are divided by total instead of B, so the
// gradients of a batch's shards add up to the gradient of the whole batch.
// With an arena, every buffer of the step comes from it: the arena is reset
// first, so the Step of the previous call on the same arena must no longer
// be used. An operator that fails (an error or a panic inside it) does not
// end the process: ForwardShard returns its *OpError, and a failure in the
// backward pass comes back from Step.Backward (or Step.Err).
func (m *Model) ForwardShard(x []float32, labels []int32, B, total int, plans []Plan, posWeight float32, ar *Arena) (*Step, error) {
	return m.forward(x, B, total, plans, posWeight, ar, func(h *headLossOp) {
		h.ce = crossEntropy{ar: ar, targets: labels, scale: 1 / float32(total), group: m.Config.ClassesPerTask()}
	})
}

// forward builds the graph shared by every loss; loss sets the class head's
// loss tail (cross-entropy on labels, or the entropy of ForwardEntropy).
func (m *Model) forward(x []float32, B, total int, plans []Plan, posWeight float32, ar *Arena, loss func(*headLossOp)) (*Step, error) {
	if total < B || B <= 0 {
		return nil, fmt.Errorf("a shard of %d samples from a batch of %d", B, total)
	}
	if len(plans) != 1 && len(plans) != B {
		return nil, fmt.Errorf("need one plan for the batch or one per sample, got %d plans for %d samples", len(plans), B)
	}
	for _, p := range plans {
		if len(p) != len(plans[0]) {
			return nil, fmt.Errorf("per-sample plans must have equal lengths, got %d and %d", len(plans[0]), len(p))
		}
		if err := m.Check(p); err != nil {
			return nil, err
		}
	}
	c := m.Config
	T, D := c.Tokens(), c.Dim
	ar.Reset()
	st := &Step{posWeight: posWeight, ar: ar}
	h := run(st, &patchEmbedOp{ar: ar, stem: m.Stem, cfg: c, x: x, B: B})
	slots := len(plans[0])
	for slot := 0; slot < slots; slot++ {
		groups, blocks := groupBySlot(plans, slot, B)
		if len(groups) == 1 {
			h = m.blockGraph(st, h, blocks[0], slot, B, slots, posWeight, total)
			continue
		}
		parts := make([]mat.Tensor, len(groups))
		for g, samples := range groups {
			hg := run(st, &gatherOp{ar: ar, h: h, samples: samples, B: B, T: T, D: D})
			parts[g] = m.blockGraph(st, hg, blocks[g], slot, len(samples), slots, posWeight, total)
		}
		h = run(st, &scatterOp{ar: ar, parts: parts, groups: groups, B: B, T: T, D: D})
	}
	st.head = &headLossOp{ar: ar, h: h, head: m.Head, cfg: c, B: B}
	loss(st.head)
	st.classLoss = run(st, st.head)
	st.loss = st.classLoss
	if len(st.posLosses) > 0 {
		st.loss = run(st, &sumOp{xs: append([]mat.Tensor{st.classLoss}, st.posLosses...)})
	}
	if err := st.Err(); err != nil {
		return nil, err
	}
	return st, nil
}

// groupBySlot splits the batch by the block each sample runs at slot, in
// order of first appearance, so the split is deterministic.
func groupBySlot(plans []Plan, slot, B int) ([][]int, []*Block) {
	if len(plans) == 1 {
		all := make([]int, B)
		for i := range all {
			all[i] = i
		}
		return [][]int{all}, []*Block{plans[0][slot]}
	}
	var groups [][]int
	var blocks []*Block
	index := map[*Block]int{}
	for s := 0; s < B; s++ {
		b := plans[s][slot]
		g, ok := index[b]
		if !ok {
			g = len(blocks)
			index[b] = g
			blocks = append(blocks, b)
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], s)
	}
	return groups, blocks
}

// blockGraph runs one block at a slot on n samples; the slot loss is scaled
// so that summed over slots, groups and shards it is posWeight times the mean
// over slots of the batch-mean cross-entropy (total is the batch size).
func (m *Model) blockGraph(st *Step, h mat.Tensor, bl *Block, slot, n, slots int, posWeight float32, total int) mat.Tensor {
	T := m.Config.Tokens()
	rows := n * T
	if bl.PosProj != nil {
		op := &posProjOp{ar: st.ar, eps: m.Config.Eps(), h: h, bl: bl, stem: m.Stem, slot: slot, rows: rows, turn: newGradTurn()}
		// Groups at one slot (per-sample orders) add into the same row of
		// the slot embedding's gradient; they take turns in group order so
		// the sum does not depend on scheduling.
		for i := len(st.posProjs) - 1; i >= 0; i-- {
			if st.posProjs[i].slot == slot {
				op.turn.after = &st.posProjs[i].turn
				break
			}
		}
		st.posProjs = append(st.posProjs, op)
		h = run(st, op)
	}
	h = run(st, &attnOp{ar: st.ar, eps: m.Config.Eps(), h: h, bl: bl, B: n, T: T})
	h = run(st, &mlpOp{ar: st.ar, eps: m.Config.Eps(), h: h, bl: bl, rows: rows})
	if bl.PosHead != nil && posWeight != 0 && slot < bl.Slots {
		targets := make([]int32, n)
		for i := range targets {
			targets[i] = int32(slot)
		}
		scale := posWeight / float32(slots*total)
		op := &posHeadLossOp{ar: st.ar, eps: m.Config.Eps(), h: h, bl: bl, B: n, T: T, ce: crossEntropy{ar: st.ar, targets: targets, scale: scale}, turn: newGradTurn()}
		for i := len(st.posHeads) - 1; i >= 0; i-- {
			if st.posHeads[i].bl == bl {
				st.posHeads[i].turn.after = &op.turn
				break
			}
		}
		st.posHeads = append(st.posHeads, op)
		st.posLosses = append(st.posLosses, run(st, op))
	}
	return h
}
