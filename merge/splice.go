package merge

import (
	"errors"
	"fmt"
	"strings"

	"github.com/frankenvit/frankenvit/vit"
)

// Ref names one block: entry Index of model Model's plan.
type Ref struct {
	Model string `json:"model"`
	Index int    `json:"index"`
}

func (r Ref) String() string { return fmt.Sprintf("%s[%d]", r.Model, r.Index) }

// Splice is a model made of other models' parts: the stem (patch, class and
// position embeddings) of one, the head (final LayerNorm and classifier) of
// one, and a plan of blocks taken from any of them.
type Splice struct {
	Stem   string `json:"stem"`
	Head   string `json:"head"`
	Blocks []Ref  `json:"blocks"`
}

// String is "stem A, head A: A[0] B[1] ...".
func (s Splice) String() string {
	parts := make([]string, len(s.Blocks))
	for i, r := range s.Blocks {
		parts[i] = r.String()
	}
	return fmt.Sprintf("stem %s, head %s: %s", s.Stem, s.Head, strings.Join(parts, " "))
}

// Pool is the models a merge draws from, in a fixed order.
type Pool struct {
	Models []*vit.Model
	byName map[string]*vit.Model
}

// NewPool indexes models by name; names must be distinct.
func NewPool(models ...*vit.Model) (*Pool, error) {
	p := &Pool{byName: map[string]*vit.Model{}}
	for _, m := range models {
		if _, dup := p.byName[m.Name]; dup {
			return nil, fmt.Errorf("model %s is given twice", m.Name)
		}
		p.byName[m.Name] = m
		p.Models = append(p.Models, m)
	}
	return p, nil
}

// Get returns the named model or nil.
func (p *Pool) Get(name string) *vit.Model { return p.byName[name] }

// Names lists the models in pool order.
func (p *Pool) Names() []string {
	out := make([]string, len(p.Models))
	for i, m := range p.Models {
		out[i] = m.Name
	}
	return out
}

// ProblemsError lists every problem found, so one message names them all.
type ProblemsError struct {
	What     string // e.g. "recipe r.yaml"; may be empty
	Problems []string
}

func (e *ProblemsError) Error() string {
	prefix := ""
	if e.What != "" {
		prefix = e.What + ": "
	}
	if len(e.Problems) == 1 {
		return prefix + e.Problems[0]
	}
	return fmt.Sprintf("%s%d problems: %s", prefix, len(e.Problems), strings.Join(e.Problems, "; "))
}

func problemsOrNil(what string, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return &ProblemsError{What: what, Problems: problems}
}

// Check reports every reason the splice cannot run, in one error: unknown
// models, blocks out of range, an empty plan, and parts whose sizes do not
// fit the stem (width, heads, MLP width, slot embeddings).
func (s Splice) Check(p *Pool) error {
	where := func(slot int) string { return fmt.Sprintf("slot %d (%s)", slot, s.Blocks[slot]) }
	return problemsOrNil("", s.problems(p, where, "stem", "head"))
}

// problems is Check with the caller's way of saying where each part is.
func (s Splice) problems(p *Pool, where func(slot int) string, stemWhere, headWhere string) []string {
	var out []string
	stem := p.Get(s.Stem)
	if stem == nil {
		out = append(out, fmt.Sprintf("%s: unknown model %q%s", stemWhere, s.Stem, known(p)))
	}
	head := p.Get(s.Head)
	if head == nil {
		out = append(out, fmt.Sprintf("%s: unknown model %q%s", headWhere, s.Head, known(p)))
	}
	if stem != nil && head != nil {
		sc, hc := stem.Config, head.Config
		if hc.Dim != sc.Dim {
			out = append(out, fmt.Sprintf("%s: model %s has width %d, the stem's model %s has width %d", headWhere, s.Head, hc.Dim, s.Stem, sc.Dim))
		}
		if hc.Classes != sc.Classes {
			out = append(out, fmt.Sprintf("%s: model %s predicts %d classes, the stem's model %s %d", headWhere, s.Head, hc.Classes, s.Stem, sc.Classes))
		}
	}
	if len(s.Blocks) == 0 {
		out = append(out, "the plan is empty: a model needs at least one block")
	}
	for slot, r := range s.Blocks {
		src := p.Get(r.Model)
		switch {
		case src == nil:
			out = append(out, fmt.Sprintf("%s: unknown model %q%s", where(slot), r.Model, known(p)))
			continue
		case r.Index < 0 || r.Index >= len(src.Blocks):
			out = append(out, fmt.Sprintf("%s: block %d is out of range: model %s has blocks 0..%d", where(slot), r.Index, r.Model, len(src.Blocks)-1))
			continue
		}
		if stem != nil {
			if why := blockMisfit(src.Blocks[r.Index], slot, stem); why != "" {
				out = append(out, fmt.Sprintf("%s: %s", where(slot), why))
			}
		}
	}
	return out
}

// known lists the pool's models for an "unknown model" message.
func known(p *Pool) string {
	if len(p.Models) == 0 {
		return ""
	}
	names := p.Names()
	if len(names) > 8 {
		names = append(names[:8], "...")
	}
	return " (known: " + strings.Join(names, ", ") + ")"
}

// blockMisfit says why block b cannot run at slot on top of stem's stem, or "".
func blockMisfit(b *vit.Block, slot int, stem *vit.Model) string {
	c := stem.Config
	var why []string
	if b.Dim != c.Dim {
		why = append(why, fmt.Sprintf("width %d, the stem's model %s has width %d", b.Dim, stem.Name, c.Dim))
	}
	if b.Heads != c.Heads {
		why = append(why, fmt.Sprintf("%d heads, the stem's model %s has %d", b.Heads, stem.Name, c.Heads))
	}
	if b.MLP != c.MLP {
		why = append(why, fmt.Sprintf("MLP width %d, the stem's model %s has %d", b.MLP, stem.Name, c.MLP))
	}
	if b.PosProj != nil {
		switch {
		case stem.Stem.LayerPos == nil:
			why = append(why, fmt.Sprintf("a slot projection, but the stem's model %s has no slot embedding", stem.Name))
		case b.PosDim != c.PosDim:
			why = append(why, fmt.Sprintf("slot embedding width %d, the stem's model %s has %d", b.PosDim, stem.Name, c.PosDim))
		case slot >= c.Depth:
			why = append(why, fmt.Sprintf("a slot projection, but the stem's model %s has slot embeddings for %d slots only", stem.Name, c.Depth))
		}
	}
	if len(why) == 0 {
		return ""
	}
	return fmt.Sprintf("block %s[%d] has %s", b.Source, b.Index, strings.Join(why, ", "))
}

// Build assembles the splice as a model named name: the stem and head are
// the donors' own parts and the plan holds the donors' blocks themselves,
// so nothing is copied. The config is the stem model's (its Depth is the
// number of slots its stem was made for; the plan may be shorter or longer).
func (s Splice) Build(name string, p *Pool) (*vit.Model, error) {
	if err := s.Check(p); err != nil {
		return nil, err
	}
	stem, head := p.Get(s.Stem), p.Get(s.Head)
	m := &vit.Model{Name: name, Config: stem.Config, Stem: stem.Stem, Head: head.Head}
	for _, r := range s.Blocks {
		m.Blocks = append(m.Blocks, p.Get(r.Model).Blocks[r.Index])
	}
	if err := m.Check(m.Blocks); err != nil { // Check above covers this; a second opinion is cheap
		return nil, err
	}
	return m, nil
}

// Sequential is the splice of a model's own plan.
func Sequential(m *vit.Model) Splice {
	s := Splice{Stem: m.Name, Head: m.Name}
	for i := range m.Blocks {
		s.Blocks = append(s.Blocks, Ref{Model: m.Name, Index: i})
	}
	return s
}

var errNoModels = errors.New("no source models: --from names none")
