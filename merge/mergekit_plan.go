package merge

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/vit"
	"gopkg.in/yaml.v3"
)

// ModelInfo is what checking a merge needs to know of a model, all from its
// manifest: no weight is read.
type ModelInfo struct {
	Config vit.Config
	Depth  int    // the blocks of its plan
	Task   string // its own data set (a population child's task)
}

// MergekitPlan is a checked mergekit configuration: the models it reads, in
// order (the base included), and how every part of the result is made.
type MergekitPlan struct {
	Method string
	Base   string   // "" when the method takes none
	Names  []string // the models, the order Spec expects them in
	Tasks  []string // each model's own task
	// Depth is the number of blocks of the result.
	Depth  int
	stem   MergePart
	blocks []MergePart
	head   MergePart
	params func(TensorRef) ([]methods.Params, methods.Params)
}

// Spec is the plan as a WeightMergeSpec over models, one per Names entry
// in that order.
func (pl *MergekitPlan) Spec(name string, models []*vit.Model, seed uint64) WeightMergeSpec {
	return WeightMergeSpec{Name: name, Method: pl.Method, Models: models, Stem: pl.stem, Blocks: pl.blocks, Head: pl.head,
		Params: pl.params, Seed: seed, Tasks: pl.Tasks}
}

// configMismatch names the first size in which b's tensors would differ
// from a's ("" = alike), from the configs alone.
func configMismatch(a, b vit.Config) string {
	type f struct {
		name string
		x, y int
	}
	fs := []f{{"image height", a.ImageHeight, b.ImageHeight}, {"image width", a.ImageWidth, b.ImageWidth},
		{"channels", a.Channels, b.Channels}, {"patch", a.Patch, b.Patch}, {"dim", a.Dim, b.Dim},
		{"heads", a.Heads, b.Heads}, {"mlp", a.MLP, b.MLP}, {"classes", a.Classes, b.Classes}}
	for _, x := range fs {
		if x.x != x.y {
			return fmt.Sprintf("%s %d, not %d", x.name, x.y, x.x)
		}
	}
	if a.Variant.HasPositionProjection() != b.Variant.HasPositionProjection() || a.Variant.HasPositionHead() != b.Variant.HasPositionHead() {
		return fmt.Sprintf("variant %s, not %s (other tensors)", b.Variant, a.Variant)
	}
	if a.Variant.HasPositionProjection() && (a.PosDim != b.PosDim || a.Depth != b.Depth) {
		return fmt.Sprintf("slot embedding %dx%d, not %dx%d", b.Depth, b.PosDim, a.Depth, a.PosDim)
	}
	if a.Variant.HasPositionHead() && a.Depth != b.Depth {
		return fmt.Sprintf("slot head of %d slots, not %d", b.Depth, a.Depth)
	}
	if len(a.Tasks) != len(b.Tasks) {
		return fmt.Sprintf("%d task heads, not %d", b.NumTasks(), a.NumTasks())
	}
	return ""
}

// partNames lists the tensor names of a config's stem, of one block and of
// its head, without allocating its blocks.
func partNames(c vit.Config) (stem, block, head []string, err error) {
	one := c
	one.Depth = 1
	m, err := vit.NewModel("shape", one)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, p := range m.Stem.Params() {
		stem = append(stem, p.Name)
	}
	for _, p := range m.Blocks[0].Params() {
		block = append(block, p.Name)
	}
	for _, p := range m.Head.Params() {
		head = append(head, p.Name)
	}
	return stem, block, head, nil
}

// Plan checks the configuration against the models it names (lookup gives
// a model's manifest facts, false when the store has no such model) and
// returns the merge to run. Every problem is named at once, with its line:
// a model or base missing, of another shape, a layer_range beyond a
// model's depth, the sources of a slice of different lengths, a slice
// without the base, the wrong number of models, a filter that selects no
// tensor, a required parameter that some tensor does not get (filters
// without a fallback), and every problem of form ParseMergekit found (pass
// its error as formErr).
func (c *MergekitConfig) Plan(lookup func(name string) (ModelInfo, bool), formErr error) (*MergekitPlan, error) {
	p := &recipeParser{}
	if pe, ok := formErr.(*ProblemsError); ok {
		p.problems = append(p.problems, pe.Problems...)
	} else if formErr != nil {
		p.problems = append(p.problems, formErr.Error())
	}
	at := func(line int) *yaml.Node { return &yaml.Node{Line: line} }
	m, known := methods.Lookup(c.Method)
	var spec methods.Spec
	if known {
		spec = m.Spec()
	}
	pl := &MergekitPlan{Method: c.Method}
	index := map[string]int{}
	infos := map[string]ModelInfo{}
	var first *ModelInfo
	firstName := ""
	use := func(name string, line int) (ModelInfo, bool) {
		if name == "" {
			return ModelInfo{}, false
		}
		if i, ok := infos[name]; ok {
			return i, true
		}
		if _, seen := index[name]; seen {
			return ModelInfo{}, false // missing, reported once
		}
		info, ok := lookup(name)
		index[name] = len(pl.Names)
		pl.Names = append(pl.Names, name)
		pl.Tasks = append(pl.Tasks, info.Task)
		if !ok {
			p.add(at(line), "unknown model %q: no such model in the store", name)
			return ModelInfo{}, false
		}
		infos[name] = info
		if first == nil {
			first, firstName = &info, name
		} else if msg := configMismatch(first.Config, info.Config); msg != "" {
			p.add(at(line), "model %s has another shape than %s: %s", name, firstName, msg)
		}
		return info, true
	}
	base := c.Base
	if known && !spec.NeedsBase && base != "" {
		c.Warnings = append(c.Warnings, fmt.Sprintf("line %d: base_model %s is ignored: %s takes no base model", c.BaseLine, base, c.Method))
		base = ""
	}
	if known && spec.NeedsBase && base == "" && c.BaseLine == 0 {
		p.add(nil, "%s needs base_model (task vectors are model - base)", c.Method)
	}
	pl.Base = base
	// The models form is one slice of every block of every model (and of
	// the base, when it is not listed), as mergekit reads it.
	type source struct {
		model      string
		start, end int
		params     map[string]*Setting
		line       int
	}
	type slice struct {
		sources []source
		params  map[string]*Setting
		line    int
	}
	var sl []slice
	if c.Models != nil {
		s := slice{line: c.Models[0].Line}
		listed := map[string]int{}
		for _, mm := range c.Models {
			if l, dup := listed[mm.Model]; dup && mm.Model != "" {
				p.add(at(mm.Line), "model %s is listed twice (the first on line %d)", mm.Model, l)
				continue
			}
			listed[mm.Model] = mm.Line
			info, ok := use(mm.Model, mm.Line)
			if !ok {
				continue
			}
			s.sources = append(s.sources, source{mm.Model, 0, info.Depth, mm.Params, mm.Line})
		}
		if _, ok := listed[base]; base != "" && !ok {
			if info, ok := use(base, c.BaseLine); ok {
				s.sources = append(s.sources, source{base, 0, info.Depth, nil, c.BaseLine})
			}
		}
		depths := map[int][]string{}
		for _, src := range s.sources {
			depths[src.end] = append(depths[src.end], src.model)
		}
		if len(depths) > 1 {
			var parts []string
			for _, d := range slices.Sorted(maps.Keys(depths)) {
				parts = append(parts, fmt.Sprintf("%s: %d blocks", strings.Join(depths[d], ", "), d))
			}
			p.add(at(s.line), "the models have different depths (%s): models merges whole models of one depth; use slices with layer_range", strings.Join(parts, "; "))
		}
		sl = append(sl, s)
	} else {
		for _, ms := range c.Slices {
			s := slice{params: ms.Params, line: ms.Line}
			for _, src := range ms.Sources {
				info, ok := use(src.Model, src.Line)
				if ok && src.Start >= 0 && src.End > info.Depth {
					p.add(at(src.Line), "layer_range [%d, %d] of %s is beyond its %d blocks", src.Start, src.End, src.Model, info.Depth)
					ok = false
				}
				if src.Start < 0 {
					ok = false
				}
				if ok {
					s.sources = append(s.sources, source{src.Model, src.Start, src.End, src.Params, src.Line})
				}
			}
			if len(s.sources) == len(ms.Sources) && len(s.sources) > 0 {
				n := s.sources[0].end - s.sources[0].start
				for _, src := range s.sources[1:] {
					if src.end-src.start != n {
						p.add(at(ms.Line), "the sources of the slice have different lengths (%s: %d blocks, %s: %d): every source gives one block per merged block", s.sources[0].model, n, src.model, src.end-src.start)
						break
					}
				}
			}
			sl = append(sl, s)
		}
		if base != "" {
			use(base, c.BaseLine)
		}
	}
	// Parts, per slice: the base source and the merged ones.
	type planned struct {
		part   MergePart
		slice  int
		t      float64
		params []map[string]*Setting // per merged source
	}
	var stemP, headP planned
	var blocksP []planned
	ok := len(p.problems) == 0
	for si, s := range sl {
		var merged []source
		var bsrc *source
		seen := map[string]bool{}
		for k := range s.sources {
			src := s.sources[k]
			if known && spec.NeedsBase && src.model == base && bsrc == nil {
				bsrc = &s.sources[k]
				continue
			}
			if seen[src.model] {
				p.add(at(src.line), "model %s appears twice in one slice", src.model)
				continue
			}
			seen[src.model] = true
			merged = append(merged, src)
		}
		if known && spec.NeedsBase && base != "" && bsrc == nil && c.Models == nil {
			p.add(at(s.line), "the slice has no source of the base model %s: add it with its layer_range", base)
		}
		if known {
			n := len(merged)
			if n < spec.MinModels {
				p.add(at(s.line), "%s merges at least %d model(s) besides the base, got %d", c.Method, spec.MinModels, n)
			}
			if spec.MaxModels > 0 && n > spec.MaxModels {
				p.add(at(s.line), "%s merges at most %d model(s) besides the base, got %d", c.Method, spec.MaxModels, n)
			}
		}
		if !ok || len(merged) == 0 {
			continue
		}
		mk := func(offset int) (MergePart, []map[string]*Setting) {
			part := MergePart{}
			var ps []map[string]*Setting
			for _, src := range merged {
				blk := -1
				if offset >= 0 {
					blk = src.start + offset
				}
				part.Sources = append(part.Sources, PartSource{Model: index[src.model], Block: blk})
				ps = append(ps, src.params)
			}
			if bsrc != nil {
				blk := -1
				if offset >= 0 {
					blk = bsrc.start + offset
				}
				part.Base = &PartSource{Model: index[bsrc.model], Block: blk}
			}
			return part, ps
		}
		if si == 0 {
			part, ps := mk(-1)
			stemP = planned{part, si, 0, ps}
		}
		if si == len(sl)-1 {
			part, ps := mk(-1)
			headP = planned{part, si, 0, ps}
		}
		n := merged[0].end - merged[0].start
		for idx := 0; idx < n; idx++ {
			t := 1.0
			if n > 1 {
				t = float64(idx) / float64(n-1)
			}
			part, ps := mk(idx)
			blocksP = append(blocksP, planned{part, si, t, ps})
		}
	}
	// A filter that selects no tensor is a typo (mergekit's q_proj, ...).
	if first != nil {
		stemN, blockN, headN, err := partNames(first.Config)
		if err != nil {
			return nil, err
		}
		var refs []TensorRef
		for _, n := range stemN {
			refs = append(refs, TensorRef{Name: n, Part: "stem", Block: -1, Depth: first.Depth})
		}
		for i := 0; i < first.Depth; i++ {
			for _, n := range blockN {
				refs = append(refs, TensorRef{Name: fmt.Sprintf("blocks.%d.%s", i, n), Part: "block", Block: i, Depth: first.Depth})
			}
		}
		for _, n := range headN {
			refs = append(refs, TensorRef{Name: n, Part: "head", Block: -1, Depth: first.Depth})
		}
		checkFilters(p, c, refs)
	}
	pl.Depth = len(blocksP)
	if len(blocksP) > maxRecipeBlocks {
		p.add(nil, "the result has more than %d blocks", maxRecipeBlocks)
	}
	if len(p.problems) > 0 || !known || first == nil {
		if len(p.problems) == 0 {
			p.add(nil, "nothing to merge")
		}
		return nil, &ProblemsError{Problems: byLine(dedupeKeep(p.problems))}
	}
	sliceParams := make([]map[string]*Setting, len(sl))
	for i, s := range sl {
		sliceParams[i] = s.params
	}
	at2 := func(ref TensorRef) planned {
		switch ref.Part {
		case "stem":
			return stemP
		case "head":
			return headP
		}
		return blocksP[ref.Block]
	}
	pl.params = func(ref TensorRef) ([]methods.Params, methods.Params) {
		pp := at2(ref)
		all := paramsAt(ref, pp.t, sliceParams[pp.slice], c.Params)
		global := methods.Params{}
		for k, v := range all {
			if ps, ok := spec.Param(k); ok && !ps.PerModel {
				global[k] = v
			}
		}
		per := make([]methods.Params, len(pp.params))
		for i, own := range pp.params {
			per[i] = methods.Params{}
			for k, v := range paramsAt(ref, pp.t, own, sliceParams[pp.slice], c.Params) {
				if ps, ok := spec.Param(k); ok && ps.PerModel {
					per[i][k] = v
				}
			}
		}
		return per, global
	}
	pl.stem, pl.head = stemP.part, headP.part
	for _, b := range blocksP {
		pl.blocks = append(pl.blocks, b.part)
	}
	// Every tensor's parameters, from the names the configs give.
	stemN, blockN, headN, err := partNames(first.Config)
	if err != nil {
		return nil, err
	}
	var pts []partTensors
	pts = append(pts, partTensors{part: "stem", block: -1, names: stemN, n: len(stemP.part.Sources), hasBase: stemP.part.Base != nil})
	for i, b := range blocksP {
		pts = append(pts, partTensors{part: "block", block: i, names: blockN, n: len(b.part.Sources), hasBase: b.part.Base != nil})
	}
	pts = append(pts, partTensors{part: "head", block: -1, names: headN, n: len(headP.part.Sources), hasBase: headP.part.Base != nil})
	for _, msg := range tensorParamProblems(c.Method, pl.Depth, pts, func(ref TensorRef, _, _ int) ([]methods.Params, methods.Params) {
		return pl.params(ref)
	}) {
		// Ranges were checked on every number given, with its line: an
		// interpolated value lies between two of them.
		if strings.Contains(msg, "out of range") || strings.Contains(msg, "is a switch") {
			continue
		}
		p.add(nil, "%s", msg)
	}
	if len(p.problems) > 0 {
		return nil, &ProblemsError{Problems: byLine(dedupeKeep(p.problems))}
	}
	return pl, nil
}

// checkFilters reports every filter that selects no tensor of refs (a
// typo, or mergekit's names for a language model's tensors: q_proj, ...).
func checkFilters(p *recipeParser, c *MergekitConfig, refs []TensorRef) {
	at := func(line int) *yaml.Node { return &yaml.Node{Line: line} }
	levels := []map[string]*Setting{c.Params}
	for _, mm := range c.Models {
		levels = append(levels, mm.Params)
	}
	for _, s := range c.Slices {
		levels = append(levels, s.Params)
		for _, src := range s.Sources {
			levels = append(levels, src.Params)
		}
	}
	for _, lv := range levels {
		for _, k := range slices.Sorted(maps.Keys(lv)) {
			for _, cd := range lv[k].Conds {
				if !slices.ContainsFunc(refs, func(r TensorRef) bool { return FilterMatches(cd.Filter, r) }) {
					p.add(at(cd.Line), "%s: filter %q selects no tensor (frankenvit's sub-layers: attn or self_attn, mlp, norm, stem, head; or a part of a timm tensor name such as qkv, fc1, blocks.3.)", k, cd.Filter)
				}
			}
		}
	}
}
