package vit

import "github.com/frankenvit/frankenvit/vit/kernels"

// GradShadow returns a model that shares m's weights (the very same Value
// slices, so an update to m is seen by the shadow) but has gradient buffers of
// its own. Two shards of a batch can then be differentiated at the same time,
// one on m and one on its shadow, without their gradients mixing; the caller
// adds the shadow's gradients into m's in a fixed order (AddGradsInto), so the
// result does not depend on which shard finished first.
func (m *Model) GradShadow() *Model {
	s, err := NewModel(m.Name, m.Config)
	if err != nil {
		panic("vit: GradShadow of an invalid model: " + err.Error()) // m was built from this config
	}
	for i, b := range m.Blocks {
		s.Blocks[i].Source, s.Blocks[i].Index = b.Source, b.Index
	}
	mine, theirs := s.Params(), m.Params()
	for i := range mine {
		mine[i].Value = theirs[i].Value
	}
	return s
}

// ShadowPlan maps a plan over m's own blocks onto the same positions of
// shadow (a GradShadow of m). Blocks of other models are refused.
func (m *Model) ShadowPlan(p Plan, shadow *Model) (Plan, bool) {
	out := make(Plan, len(p))
	for i, b := range p {
		j := m.blockPosition(b)
		if j < 0 {
			return nil, false
		}
		out[i] = shadow.Blocks[j]
	}
	return out, true
}

func (m *Model) blockPosition(b *Block) int {
	for j, own := range m.Blocks {
		if own == b {
			return j
		}
	}
	return -1
}

// AddGradsInto adds every gradient of m into dst's matching parameter and
// zeroes m's (dst is the model m shadows, or any model of the same shapes),
// on every core: each element is one float32 addition, whoever runs it.
func (m *Model) AddGradsInto(dst *Model) {
	from, to := m.Params(), dst.Params()
	ParallelSpans(kernels.AllCores, GradSizes(from), func(i, lo, hi int) {
		g := from[i].Grad[lo:hi]
		kernels.AddInPlace(to[i].Grad[lo:hi], g)
		clear(g)
	})
}
