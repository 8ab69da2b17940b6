package vit

import (
	"sync"

	"github.com/nlpodyssey/spago/mat"
)

// Param is one trainable tensor. Its value is a spago leaf node, so it can be
// an operand of any ag operator; the fused operators of this package add their
// gradients straight into Grad (under the part's lock) instead of going
// through spago's per-node accumulation, which would clone a tensor per step.
type Param struct {
	Name  string // timm name relative to its part, e.g. "attn.qkv.weight"
	Shape []int
	Node  *mat.Dense[float32]
	Grad  []float32
}

func newParam(name string, shape ...int) *Param {
	n := 1
	for _, s := range shape {
		n *= s
	}
	rows, cols := n, 1
	if len(shape) == 2 {
		rows, cols = shape[0], shape[1]
	} else if len(shape) >= 1 {
		rows, cols = 1, n
	}
	node := mat.NewDense[float32](mat.WithShape(rows, cols), mat.WithGrad(true))
	return &Param{Name: name, Shape: append([]int(nil), shape...), Node: node, Grad: make([]float32, n)}
}

// Data is the parameter's value as a flat slice (no copy).
func (p *Param) Data() []float32 { return p.Node.Data().F32() }

// Size is the number of elements.
func (p *Param) Size() int { return len(p.Grad) }

// SpagoGrad returns the gradient spago accumulated on the node through
// built-in ag operators, or nil. Optimizers add it to Grad.
func (p *Param) SpagoGrad() []float32 {
	if p.Node.HasGrad() { // Grad() is a typed nil otherwise
		return p.Node.Grad().Data().F32()
	}
	return nil
}

// ZeroGrad clears both gradient stores.
func (p *Param) ZeroGrad() {
	clear(p.Grad)
	p.Node.ZeroGrad()
}

// part is what the stem, a block and the head have in common: named
// parameters and a lock that serialises gradient accumulation when one part
// runs at several slots of a plan.
type part struct {
	mu     sync.Mutex
	params []*Param
}

func (p *part) add(name string, shape ...int) *Param {
	q := newParam(name, shape...)
	p.params = append(p.params, q)
	return q
}

// Params lists the part's parameters in a fixed order.
func (p *part) Params() []*Param { return p.params }
