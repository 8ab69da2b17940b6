package vit

import (
	"fmt"
	"strconv"
	"strings"
)

// Plan is the ordered list of blocks a forward pass runs. Slot i of a plan is
// its i-th entry; a block may come from any model of the same width, may be
// left out or may appear more than once.
type Plan []*Block

// Sequential is the order the model was built with.
func (m *Model) Sequential() Plan { return append(Plan(nil), m.Blocks...) }

// Reversed runs the model's blocks last to first.
func (m *Model) Reversed() Plan {
	p := make(Plan, len(m.Blocks))
	for i, b := range m.Blocks {
		p[len(p)-1-i] = b
	}
	return p
}

// PlanOf builds a plan from indices into the model's blocks.
func (m *Model) PlanOf(indices []int) (Plan, error) {
	p := make(Plan, len(indices))
	for i, k := range indices {
		if k < 0 || k >= len(m.Blocks) {
			return nil, fmt.Errorf("block %d does not exist: model %s has blocks 0..%d", k, m.Name, len(m.Blocks)-1)
		}
		p[i] = m.Blocks[k]
	}
	return p, nil
}

// ParseIndices reads a comma-separated block list such as "0,3,1".
func ParseIndices(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		k, err := strconv.Atoi(f)
		if err != nil || k < 0 {
			return nil, fmt.Errorf("bad block index %q in %q: want non-negative integers separated by commas", f, s)
		}
		out = append(out, k)
	}
	return out, nil
}

// String names each entry as source[index], e.g. "a[0] a[2] b[1]".
func (p Plan) String() string {
	parts := make([]string, len(p))
	for i, b := range p {
		parts[i] = fmt.Sprintf("%s[%d]", b.Source, b.Index)
	}
	return strings.Join(parts, " ")
}

// Check reports why a plan cannot run on top of model m's stem and head.
func (m *Model) Check(p Plan) error {
	c := m.Config
	for i, b := range p {
		if b.Dim != c.Dim {
			return fmt.Errorf("slot %d: block %s[%d] has width %d, model %s has width %d", i, b.Source, b.Index, b.Dim, m.Name, c.Dim)
		}
		if b.PosProj != nil {
			if m.Stem.LayerPos == nil {
				return fmt.Errorf("slot %d: block %s[%d] needs a slot embedding, which model %s's stem lacks", i, b.Source, b.Index, m.Name)
			}
			if b.PosDim != c.PosDim {
				return fmt.Errorf("slot %d: block %s[%d] has slot embedding width %d, model %s has %d", i, b.Source, b.Index, b.PosDim, m.Name, c.PosDim)
			}
			if i >= c.Depth {
				return fmt.Errorf("slot %d: model %s has slot embeddings for %d slots only", i, m.Name, c.Depth)
			}
		}
	}
	return nil
}
