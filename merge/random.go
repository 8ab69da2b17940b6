package merge

import (
	"fmt"
	"math/rand/v2"
)

// RandomOptions control Random.
type RandomOptions struct {
	// Count is the number of Frankenstein models to draw.
	Count int
	// AnyBlock lets a slot take any block of the drawn source, not only the
	// block at the same position.
	AnyBlock bool
	// Stem, if set, gives the stem and head of every model; otherwise each
	// model takes both from one source drawn at random.
	Stem string
	// Depth is the number of slots; 0 means the stem model's plan length.
	Depth int
	Seed  uint64
}

// MaxCount bounds how many models one call builds (Random's Count, a
// search's Population): past it a count is a typo, refused before anything
// is drawn or stored.
const MaxCount = 10_000

// Random draws the paper's Frankenstein models: slot i of each takes block
// i (or, with AnyBlock, a random block) of a source drawn uniformly from
// the pool. The draws are one seeded stream, so the first k of Count models
// are the same for any Count >= k.
func Random(p *Pool, opt RandomOptions) ([]Splice, error) {
	if len(p.Models) == 0 {
		return nil, errNoModels
	}
	if opt.Count <= 0 || opt.Count > MaxCount {
		return nil, fmt.Errorf("--count must be from 1 to %d, got %d", MaxCount, opt.Count)
	}
	if opt.Depth < 0 {
		return nil, fmt.Errorf("the depth must not be negative, got %d", opt.Depth)
	}
	if opt.Stem != "" && p.Get(opt.Stem) == nil {
		return nil, fmt.Errorf("--stem: model %s is not among the sources%s", opt.Stem, known(p))
	}
	rng := rand.New(rand.NewPCG(opt.Seed, 0xf7a2))
	out := make([]Splice, 0, opt.Count)
	for k := 0; k < opt.Count; k++ {
		stem := opt.Stem
		if stem == "" {
			stem = p.Models[rng.IntN(len(p.Models))].Name
		}
		depth := opt.Depth
		if depth == 0 {
			depth = len(p.Get(stem).Blocks)
		}
		s := Splice{Stem: stem, Head: stem}
		for slot := 0; slot < depth; slot++ {
			// Only sources that have a block at this slot can give it.
			var cands []int
			for i, m := range p.Models {
				if opt.AnyBlock && len(m.Blocks) > 0 || slot < len(m.Blocks) {
					cands = append(cands, i)
				}
			}
			if len(cands) == 0 {
				return nil, fmt.Errorf("slot %d: no source model has a block %d", slot, slot)
			}
			src := p.Models[cands[rng.IntN(len(cands))]]
			idx := slot
			if opt.AnyBlock {
				idx = rng.IntN(len(src.Blocks))
			}
			s.Blocks = append(s.Blocks, Ref{Model: src.Name, Index: idx})
		}
		if err := s.Check(p); err != nil {
			return nil, fmt.Errorf("random model %d (%s): %v", k, s, err)
		}
		out = append(out, s)
	}
	return out, nil
}
