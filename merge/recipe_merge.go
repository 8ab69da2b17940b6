package merge

import (
	"fmt"
	"iter"
	"maps"
	"math/rand/v2"
	"strings"

	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/vit"
	"gopkg.in/yaml.v3"
)

// mergedSlice reads a slice with method and sources: slots that are
// weight merges of blocks.
func (p *recipeParser) mergedSlice(n *yaml.Node) Slice {
	s := Slice{Line: n.Line}
	var sources, base, params *yaml.Node
	seen := p.fields(n, p.twice(sliceFieldTwice), func(key, val *yaml.Node) {
		switch key.Value {
		case "method":
			s.Method = p.modelName(val, "method")
		case "sources":
			sources = val
		case "base":
			base = val
		case "parameters":
			params = val
		case "model", "blocks", "layer_range":
			p.add(key, "%s belongs in a source of a merged slice (sources: [{model: A, blocks: [2]}, ...])", key.Value)
		default:
			p.add(key, "unknown field %q in a merged slice (it has method, sources, base and parameters)", key.Value)
		}
	})
	var spec methods.Spec
	known := false
	if s.Method == "" {
		if _, ok := seen["method"]; !ok {
			p.add(n, "a slice with sources needs a method (one of %s)", strings.Join(methods.Names(), ", "))
		}
	} else if m, ok := methods.Lookup(s.Method); !ok {
		p.add(seen["method"], "unknown method %q (known: %s)", s.Method, strings.Join(methods.Names(), ", "))
	} else {
		spec, known = m.Spec(), true
	}
	pp := paramParser{p: p, spec: spec, known: known}
	s.Params = pp.params(params, "parameters", false)
	source := func(it *yaml.Node) *SliceSource {
		src := &SliceSource{Line: it.Line}
		if it.Kind != yaml.MappingNode {
			p.add(it, "a source must be a mapping like {model: A, blocks: [2]}, got %s", kindName(it))
			return nil
		}
		var at blocksAt
		p.fields(it, p.twice(sourceFieldTwice), func(key, val *yaml.Node) {
			switch {
			case at.field(p, key, val):
			case key.Value == "parameters":
				src.Params = pp.params(val, "parameters", true)
			default:
				p.add(key, "unknown field %q in a source (it has model, blocks or layer_range, parameters)", key.Value)
			}
		})
		if src.Model = at.model; src.Model == "" {
			p.add(it, "the source names no model")
		} else {
			src.Blocks = at.read(p, it, "source")
		}
		return src
	}
	if sources == nil || sources.Kind != yaml.SequenceNode || len(sources.Content) == 0 {
		p.add(n, "a merged slice needs sources: a non-empty list of {model: NAME, blocks: [i, ...]}")
	} else {
		for _, it := range sources.Content {
			if src := source(it); src != nil {
				s.Sources = append(s.Sources, *src)
			}
		}
	}
	if base != nil {
		s.Base = source(base)
		if s.Base != nil && s.Base.Params != nil {
			p.add(base, "the base takes no parameters")
		}
	}
	if known {
		if spec.NeedsBase && base == nil {
			p.add(n, "%s needs a base: base: {model: P, blocks: [i, ...]}", s.Method)
		}
		if !spec.NeedsBase && base != nil {
			p.add(base, "%s takes no base", s.Method)
		}
		if k := len(s.Sources); k < spec.MinModels || (spec.MaxModels > 0 && k > spec.MaxModels) {
			p.add(n, "%s merges %d..%s model(s) besides the base, got %d", s.Method, spec.MinModels, maxModels(spec), k)
		}
	}
	all := s.withBase()
	for _, src := range all[min(1, len(all)):] {
		if len(src.Blocks) != len(all[0].Blocks) && len(src.Blocks) > 0 && len(all[0].Blocks) > 0 {
			p.add(&yaml.Node{Line: src.Line}, "%s gives %d blocks, %s gives %d: every source (and the base) gives one block per merged slot", src.Model, len(src.Blocks), all[0].Model, len(all[0].Blocks))
		}
	}
	return s
}

func maxModels(s methods.Spec) string {
	if s.MaxModels == 0 {
		return "any"
	}
	return fmt.Sprint(s.MaxModels)
}

// slotParams gives the parameters of one tensor of slot k of a merged
// slice of n slots: numbers, gradients over the slice's slots (t =
// k/(n-1)), filters; a source's own first, then the slice's.
func (sl *Slice) slotParams(spec methods.Spec, k, n int) func(TensorRef) ([]methods.Params, methods.Params) {
	t := 1.0
	if n > 1 {
		t = float64(k) / float64(n-1)
	}
	return func(ref TensorRef) ([]methods.Params, methods.Params) {
		global := methods.Params{}
		for name, v := range paramsAt(ref, t, sl.Params) {
			if ps, ok := spec.Param(name); ok && !ps.PerModel {
				global[name] = v
			}
		}
		per := make([]methods.Params, len(sl.Sources))
		for i, src := range sl.Sources {
			per[i] = methods.Params{}
			for name, v := range paramsAt(ref, t, src.Params, sl.Params) {
				if ps, ok := spec.Param(name); ok && ps.PerModel {
					per[i][name] = v
				}
			}
		}
		return per, global
	}
}

// mergedProblems checks the merged slices against the models: every
// source block exists and has the size of the slice's first, and every
// tensor's parameters suit the method.
func (r *Recipe) mergedProblems(p *Pool) []string {
	var out []string
	for slot, sl := range r.mergedSlices() {
		m, ok := methods.Lookup(sl.Method)
		if !ok || len(sl.Sources) == 0 {
			continue
		}
		var first *vit.Block
		for _, src := range sl.withBase() {
			mod := p.Get(src.Model)
			if mod == nil {
				out = append(out, fmt.Sprintf("line %d: unknown model %q", src.Line, src.Model))
				continue
			}
			for _, k := range src.Blocks {
				if k >= len(mod.Blocks) {
					out = append(out, fmt.Sprintf("line %d: %s has no block %d (it has %d)", src.Line, src.Model, k, len(mod.Blocks)))
					continue
				}
				b := mod.Blocks[k]
				if first == nil {
					first = b
				} else if msg := sameParams(first.Params(), b.Params()); msg != "" {
					out = append(out, fmt.Sprintf("line %d: block %d of %s has another shape: %s", src.Line, k, src.Model, msg))
				}
			}
		}
		n := len(sl.Sources[0].Blocks)
		if first != nil {
			var names []string
			for _, q := range first.Params() {
				names = append(names, q.Name)
			}
			for k := 0; k < n; k++ {
				pt := []partTensors{{part: "block", block: slot + k, names: names, n: len(sl.Sources), hasBase: sl.Base != nil}}
				params := sl.slotParams(m.Spec(), k, n)
				for _, msg := range tensorParamProblems(sl.Method, 0, pt, func(ref TensorRef, _, _ int) ([]methods.Params, methods.Params) { return params(ref) }) {
					if !strings.Contains(msg, "out of range") && !strings.Contains(msg, "is a switch") && !strings.Contains(msg, "merges at") {
						out = append(out, fmt.Sprintf("line %d: %s", sl.Line, msg))
					}
				}
			}
		}
	}
	return dedupeKeep(out)
}

// mergedSlices yields the recipe's merged slices, each with the plan's
// slot of its first merged block.
func (r *Recipe) mergedSlices() iter.Seq2[int, *Slice] {
	return func(yield func(int, *Slice) bool) {
		slot := 0
		for i := range r.Slices {
			sl := &r.Slices[i]
			if sl.Method != "" && !yield(slot, sl) {
				return
			}
			slot += sl.slots()
		}
	}
}

// slots is the number of the plan's slots the slice fills: its blocks, or
// for a merged slice its first source's.
func (sl *Slice) slots() int {
	if sl.Method != "" {
		if len(sl.Sources) == 0 {
			return 0
		}
		return len(sl.Sources[0].Blocks)
	}
	return len(sl.Blocks)
}

// withBase is a merged slice's sources and then its base, if it has one.
func (sl *Slice) withBase() []SliceSource {
	all := append([]SliceSource(nil), sl.Sources...)
	if sl.Base != nil {
		all = append(all, *sl.Base)
	}
	return all
}

// MergedSlots computes the recipe's merged slots from the pool's models
// (after Resolve): each a new block named after the result, for its slot;
// and the record of each. seed seeds the random methods per slot and tensor.
func (r *Recipe) MergedSlots(name string, p *Pool, seed uint64) (map[int]*vit.Block, []SlotRecord, error) {
	blocks := map[int]*vit.Block{}
	var recs []SlotRecord
	for slot, sl := range r.mergedSlices() {
		m, ok := methods.Lookup(sl.Method)
		if !ok {
			return nil, nil, fmt.Errorf("line %d: unknown method %q", sl.Line, sl.Method)
		}
		n := len(sl.Sources[0].Blocks)
		for k := 0; k < n; k++ {
			var srcs []*vit.Block
			rec := SlotRecord{Slot: slot + k, Method: sl.Method}
			for _, src := range sl.Sources {
				srcs = append(srcs, p.Get(src.Model).Blocks[src.Blocks[k]])
				rec.Sources = append(rec.Sources, Ref{Model: src.Model, Index: src.Blocks[k]})
			}
			var base *vit.Block
			if sl.Base != nil {
				base = p.Get(sl.Base.Model).Blocks[sl.Base.Blocks[k]]
				rec.Base = &Ref{Model: sl.Base.Model, Index: sl.Base.Blocks[k]}
			}
			b, err := mergeBlock(m, name, slot+k, srcs, base, sl.slotParams(m.Spec(), k, n), seed)
			if err != nil {
				return nil, nil, fmt.Errorf("line %d: %v", sl.Line, err)
			}
			blocks[slot+k] = b
			recs = append(recs, rec)
		}
	}
	return blocks, recs, nil
}

// mergeBlock merges blocks tensor by tensor into a new block of model name
// at slot.
func mergeBlock(m methods.Method, name string, slot int, srcs []*vit.Block, base *vit.Block, params func(TensorRef) ([]methods.Params, methods.Params), seed uint64) (*vit.Block, error) {
	f := srcs[0]
	out := vit.NewBlock(vit.BlockSpec{Dim: f.Dim, Heads: f.Heads, MLP: f.MLP, PosDim: f.PosDim, Slots: f.Slots}, name, slot)
	sp := make([][]*vit.Param, len(srcs))
	for i, b := range srcs {
		sp[i] = b.Params()
	}
	for j, q := range out.Params() {
		ref := TensorRef{Name: fmt.Sprintf("blocks.%d.%s", slot, q.Name), Part: "block", Block: slot}
		per, global := params(ref)
		t := methods.Tensor{Name: ref.Name, Shape: append([]int(nil), q.Shape...), Data: make([][]float32, len(srcs)),
			Per: copyPer(per, len(srcs)), Global: maps.Clone(global), Rand: rand.New(rand.NewPCG(seed, uint64(slot)<<16|uint64(j)))}
		if t.Global == nil {
			t.Global = methods.Params{}
		}
		for i := range srcs {
			t.Data[i] = sp[i][j].Data()
		}
		if base != nil && m.Spec().NeedsBase {
			t.Base = base.Params()[j].Data()
		}
		merged, err := m.Merge(t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", ref.Name, err)
		}
		if len(merged) != len(q.Data()) {
			return nil, fmt.Errorf("%s: the method returned %d values for %d", ref.Name, len(merged), len(q.Data()))
		}
		copy(q.Data(), merged)
	}
	return out, nil
}
