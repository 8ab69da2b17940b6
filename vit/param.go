package vit

import "sync"

// Param is one trainable tensor: its value and its gradient as flat
// float32 slices (row-major, in the shape's order). The forward/backward
// functions read Value and add into Grad (under the part's lock); only the
// training graph (graph.go, ops.go) knows that a tape schedules them.
type Param struct {
	Name  string // timm name relative to its part, e.g. "attn.qkv.weight"
	Shape []int
	Value []float32
	Grad  []float32
}

func newParam(name string, shape ...int) *Param {
	n := 1
	for _, s := range shape {
		n *= s
	}
	return &Param{Name: name, Shape: append([]int(nil), shape...), Value: make([]float32, n), Grad: make([]float32, n)}
}

// Data is the parameter's value as a flat slice (no copy).
func (p *Param) Data() []float32 { return p.Value }

// Size is the number of elements.
func (p *Param) Size() int { return len(p.Grad) }

// ZeroGrad clears the gradient.
func (p *Param) ZeroGrad() { clear(p.Grad) }

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
