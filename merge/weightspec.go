package merge

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/vit"
)

// TensorRef names one tensor of a weight merge's result, as the per-tensor
// parameter source (WeightMergeSpec.Params) sees it.
type TensorRef struct {
	// Name is timm's name of the tensor in the result: "patch_embed.proj.weight",
	// "blocks.3.attn.qkv.weight", "norm.weight", "head.weight", ...
	Name string
	// Part is "stem", "block" or "head" (the head part is the final
	// LayerNorm and the classifier, as the store keeps it).
	Part string
	// Block is the result's slot of a block tensor, -1 for the stem and the head.
	Block int
	// Depth is the number of blocks of the result.
	Depth int
}

// SubLayer is the tensor's sub-layer, the filter word that names it:
// "stem", "attn", "mlp", "norm" (a block's LayerNorms), "head", or "" for
// the slot projection and slot head of the position variants.
func (r TensorRef) SubLayer() string {
	switch r.Part {
	case "stem":
		return "stem"
	case "head":
		return "head"
	}
	local := r.Name
	if i := strings.Index(local, fmt.Sprintf("blocks.%d.", r.Block)); i == 0 {
		local = local[len(fmt.Sprintf("blocks.%d.", r.Block)):]
	}
	switch {
	case strings.HasPrefix(local, "attn."):
		return "attn"
	case strings.HasPrefix(local, "mlp."):
		return "mlp"
	case strings.HasPrefix(local, "norm"):
		return "norm"
	}
	return ""
}

// PartSource is one input of a merged part: a model of the spec (an index
// into WeightMergeSpec.Models) and, for a block, the entry of its plan.
type PartSource struct {
	Model int
	Block int // -1 for the stem and the head
}

// MergePart is how one part of the result (the stem, one block, the head) is
// made: the merged sources, in order, and the base (nil when the method
// takes none).
type MergePart struct {
	Sources []PartSource
	Base    *PartSource
}

// WeightMergeSpec is a weight merge in full: which parts of which models
// make each part of the result and the parameters of every tensor. It is
// what MergeWeights runs; WeightMerge is the common case (every model
// merged whole, block i with block i, one set of parameters).
type WeightMergeSpec struct {
	Name   string // the result's name
	Method string // a merge/methods name
	// Models are every model the parts refer to, the base included.
	Models []*vit.Model
	// Stem, Blocks and Head say how each part of the result is made.
	// The result has len(Blocks) blocks, in that order.
	Stem   MergePart
	Blocks []MergePart
	Head   MergePart
	// Params gives the parameters of one tensor of the result: per holds
	// one entry per source of the tensor's part (or is empty), global the
	// merge-wide ones. nil: no parameters (the methods' defaults).
	Params func(TensorRef) (per []methods.Params, global methods.Params)
	// Seed seeds the random methods, per tensor index in the result (stem,
	// blocks, head, in parameter order), so equal specs give equal weights.
	Seed uint64
	// Tasks is each model's own task (its manifest's data set), or nil. When
	// the models' config has Tasks (a multi-task model, one head per task),
	// the head rows of task k are copied, unmerged, from the first source of
	// the head whose own task is k; the rows of the tasks no source owns are
	// merged like every other tensor.
	Tasks []string
}

// WeightMergeResult is the merged model and what the merge decided.
type WeightMergeResult struct {
	Model *vit.Model
	// Heads maps each task of a multi-task result to the model whose head
	// rows it kept ("" = merged); nil for a single-task model.
	Heads map[string]string
}

// SequentialParts is the parts of a merge of whole models: stem with stem,
// block i of every model with block i (and of the base), head with head, for
// the first depth blocks. models are indices into the spec's Models, base is
// -1 for none.
func SequentialParts(models []int, base, depth int) (stem MergePart, blocks []MergePart, head MergePart) {
	part := func(block int) MergePart {
		p := MergePart{}
		for _, m := range models {
			p.Sources = append(p.Sources, PartSource{Model: m, Block: block})
		}
		if base >= 0 {
			p.Base = &PartSource{Model: base, Block: block}
		}
		return p
	}
	for i := 0; i < depth; i++ {
		blocks = append(blocks, part(i))
	}
	return part(-1), blocks, part(-1)
}

// partParams returns the parameter tensors of one part of model m.
func partParams(m *vit.Model, part string, block int) ([]*vit.Param, error) {
	switch part {
	case "stem":
		return m.Stem.Params(), nil
	case "head":
		return m.Head.Params(), nil
	}
	if block < 0 || block >= len(m.Blocks) {
		return nil, fmt.Errorf("model %s has no block %d (its plan has %d)", m.Name, block, len(m.Blocks))
	}
	return m.Blocks[block].Params(), nil
}

// MergeWeights runs a weight merge as the spec says, tensor by tensor. The
// spec's structure (model indices, blocks in range, equal shapes of the
// merged parts, the model count and the parameters of every tensor) is
// checked first, every problem in one *ProblemsError, before any weight is
// touched.
func MergeWeights(spec WeightMergeSpec) (*WeightMergeResult, error) {
	m, ok := methods.Lookup(spec.Method)
	if !ok {
		return nil, problemsOrNil("weight merge", []string{fmt.Sprintf("unknown method %q (known: %s)", spec.Method, strings.Join(methods.Names(), ", "))})
	}
	needsBase := m.Spec().NeedsBase
	type job struct {
		ref   TensorRef
		part  MergePart
		outP  *vit.Param
		local int // index of the tensor inside its part
	}
	var problems []string
	addf := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if len(spec.Models) == 0 || spec.Models[0] == nil {
		return nil, problemsOrNil("weight merge", []string{"no models"})
	}
	for i, mod := range spec.Models {
		if mod == nil {
			addf("model %d is missing", i+1)
		}
	}
	if len(spec.Blocks) == 0 {
		addf("the result has no blocks")
	}
	if len(problems) > 0 {
		return nil, problemsOrNil("weight merge", problems)
	}
	// The result takes the config of the first source of the stem (its
	// depth is the number of result blocks, as a pruned model's plan).
	first := spec.Models[0]
	if len(spec.Stem.Sources) > 0 && spec.Stem.Sources[0].Model >= 0 && spec.Stem.Sources[0].Model < len(spec.Models) {
		first = spec.Models[spec.Stem.Sources[0].Model]
	}
	out, err := vit.NewModel(spec.Name, first.Config)
	if err != nil {
		return nil, err
	}
	depth := len(spec.Blocks)
	// Parts' inputs, checked and resolved.
	resolve := func(where string, part string, p MergePart, outParams []*vit.Param) (srcs [][]*vit.Param, base []*vit.Param) {
		all := append([]PartSource(nil), p.Sources...)
		if p.Base != nil && needsBase {
			all = append(all, *p.Base)
		}
		if needsBase && p.Base == nil {
			addf("%s: %s needs a base model (task vectors are model - base)", where, spec.Method)
		}
		for k, s := range all {
			if s.Model < 0 || s.Model >= len(spec.Models) {
				addf("%s: source %d names model %d of %d", where, k+1, s.Model+1, len(spec.Models))
				return nil, nil
			}
			ps, err := partParams(spec.Models[s.Model], part, s.Block)
			if err != nil {
				addf("%s: %v", where, err)
				return nil, nil
			}
			if msg := sameParams(outParams, ps); msg != "" {
				addf("%s: %s of model %s has another shape: %s", where, part, spec.Models[s.Model].Name, msg)
				return nil, nil
			}
			if k < len(p.Sources) {
				srcs = append(srcs, ps)
			} else {
				base = ps
			}
		}
		return srcs, base
	}
	type partJob struct {
		where, part string
		block       int
		p           MergePart
		out         []*vit.Param
	}
	var parts []partJob
	parts = append(parts, partJob{"stem", "stem", -1, spec.Stem, out.Stem.Params()})
	out.Blocks = out.Blocks[:0]
	for i, bp := range spec.Blocks {
		var bspec vit.BlockSpec
		if len(bp.Sources) > 0 {
			s := bp.Sources[0]
			if s.Model >= 0 && s.Model < len(spec.Models) && s.Block >= 0 && s.Block < len(spec.Models[s.Model].Blocks) {
				b := spec.Models[s.Model].Blocks[s.Block]
				bspec = vit.BlockSpec{Dim: b.Dim, Heads: b.Heads, MLP: b.MLP, PosDim: b.PosDim, Slots: b.Slots}
			}
		}
		if bspec.Dim == 0 {
			bspec = vit.BlockSpecOf(first.Config)
		}
		b := vit.NewBlock(bspec, spec.Name, i)
		out.Blocks = append(out.Blocks, b)
		parts = append(parts, partJob{fmt.Sprintf("block %d", i), "block", i, bp, b.Params()})
	}
	parts = append(parts, partJob{"head", "head", -1, spec.Head, out.Head.Params()})
	type resolved struct {
		srcs [][]*vit.Param
		base []*vit.Param
	}
	res := make([]resolved, len(parts))
	for k, pj := range parts {
		if len(pj.p.Sources) == 0 {
			addf("%s: no sources", pj.where)
			continue
		}
		res[k].srcs, res[k].base = resolve(pj.where, pj.part, pj.p, pj.out)
	}
	// Head keeping for multi-task models.
	cfg := first.Config
	keep := map[int]int{} // task -> source index (within the head part) whose rows are kept
	heads := map[string]string(nil)
	if len(cfg.Tasks) > 0 {
		heads = map[string]string{}
		for k, task := range cfg.Tasks {
			heads[task] = ""
			for j, s := range spec.Head.Sources {
				if s.Model >= 0 && s.Model < len(spec.Tasks) && spec.Tasks[s.Model] == task {
					keep[k] = j
					heads[task] = spec.Models[s.Model].Name
					break
				}
			}
		}
	}
	// Parameters of every tensor, checked before any weight is read.
	refOf := func(pj partJob, p *vit.Param) TensorRef {
		name := p.Name
		if pj.part == "block" {
			name = fmt.Sprintf("blocks.%d.%s", pj.block, p.Name)
		}
		return TensorRef{Name: name, Part: pj.part, Block: pj.block, Depth: depth}
	}
	type tensorParams struct {
		per    []methods.Params
		global methods.Params
	}
	tps := make([][]tensorParams, len(parts))
	var pts []partTensors
	for k, pj := range parts {
		tps[k] = make([]tensorParams, len(pj.out))
		pt := partTensors{part: pj.part, block: pj.block, n: len(pj.p.Sources), hasBase: pj.p.Base != nil}
		for j, p := range pj.out {
			pt.names = append(pt.names, p.Name)
			if spec.Params != nil {
				tps[k][j].per, tps[k][j].global = spec.Params(refOf(pj, p))
			}
		}
		pts = append(pts, pt)
	}
	problems = append(problems, tensorParamProblems(spec.Method, depth, pts, func(ref TensorRef, part, j int) ([]methods.Params, methods.Params) {
		return tps[part][j].per, tps[part][j].global
	})...)
	if len(problems) > 0 {
		return nil, problemsOrNil("weight merge", dedupeKeep(problems))
	}
	idx := 0
	for k, pj := range parts {
		for j, p := range pj.out {
			ref := refOf(pj, p)
			t := methods.Tensor{
				Name:   ref.Name,
				Shape:  append([]int(nil), p.Shape...),
				Data:   make([][]float32, len(res[k].srcs)),
				Per:    copyPer(tps[k][j].per, len(res[k].srcs)),
				Global: maps.Clone(tps[k][j].global),
				Rand:   rand.New(rand.NewPCG(spec.Seed, uint64(idx))),
			}
			if t.Global == nil {
				t.Global = methods.Params{}
			}
			idx++
			for i := range res[k].srcs {
				t.Data[i] = res[k].srcs[i][j].Data()
			}
			if needsBase {
				t.Base = res[k].base[j].Data()
			}
			var merged []float32
			var err error
			if pj.part == "head" && len(keep) > 0 && (p.Name == "head.weight" || p.Name == "head.bias") {
				merged, err = mergeKeepingHeads(m, t, cfg, keep)
			} else {
				merged, err = m.Merge(t)
			}
			if err != nil {
				return nil, fmt.Errorf("weight merge %s: %w", spec.Method, err) // the method names the tensor
			}
			d := p.Data()
			if len(merged) != len(d) {
				return nil, fmt.Errorf("weight merge %s: %s: the method returned %d values for %d", spec.Method, ref.Name, len(merged), len(d))
			}
			copy(d, merged)
		}
	}
	return &WeightMergeResult{Model: out, Heads: heads}, nil
}

// mergeKeepingHeads merges a multi-task classifier tensor (rows = tasks x
// classes per task): the rows of a task in keep are the owning source's,
// the others are merged as one tensor of their own.
func mergeKeepingHeads(m methods.Method, t methods.Tensor, cfg vit.Config, keep map[int]int) ([]float32, error) {
	rows := t.Shape[0]
	width := 1
	for _, s := range t.Shape[1:] {
		width *= s
	}
	c := cfg.ClassesPerTask()
	out := make([]float32, rows*width)
	var free []int // rows merged
	for task := 0; task < cfg.NumTasks(); task++ {
		if src, ok := keep[task]; ok {
			copy(out[task*c*width:(task+1)*c*width], t.Data[src][task*c*width:(task+1)*c*width])
			continue
		}
		for r := task * c; r < (task+1)*c; r++ {
			free = append(free, r)
		}
	}
	if len(free) == 0 {
		return out, nil
	}
	gather := func(x []float32) []float32 {
		if x == nil {
			return nil
		}
		g := make([]float32, 0, len(free)*width)
		for _, r := range free {
			g = append(g, x[r*width:(r+1)*width]...)
		}
		return g
	}
	sub := t
	sub.Shape = append([]int{len(free)}, t.Shape[1:]...)
	sub.Base = gather(t.Base)
	sub.Data = make([][]float32, len(t.Data))
	for i := range t.Data {
		sub.Data[i] = gather(t.Data[i])
	}
	merged, err := m.Merge(sub)
	if err != nil {
		return nil, err
	}
	if len(merged) != len(free)*width {
		return nil, fmt.Errorf("the method returned %d values for %d", len(merged), len(free)*width)
	}
	for k, r := range free {
		copy(out[r*width:(r+1)*width], merged[k*width:(k+1)*width])
	}
	return out, nil
}

// sameParams says how two parameter lists differ in names or shapes ("" = alike).
func sameParams(a, b []*vit.Param) string {
	if len(a) != len(b) {
		return fmt.Sprintf("%d tensors against %d", len(b), len(a))
	}
	for i := range a {
		if a[i].Name != b[i].Name || !slices.Equal(a[i].Shape, b[i].Shape) {
			return fmt.Sprintf("%s %v against %s %v", b[i].Name, b[i].Shape, a[i].Name, a[i].Shape)
		}
	}
	return ""
}

func copyPer(per []methods.Params, n int) []methods.Params {
	out := make([]methods.Params, n)
	for i := range out {
		out[i] = methods.Params{}
		if i < len(per) {
			maps.Copy(out[i], per[i])
		}
	}
	return out
}

// dedupeKeep drops repeated messages, keeping the first of each.
func dedupeKeep(ps []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range ps {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// partTensors names the tensors of one part of a result (their names
// within the part) and how many sources it merges.
type partTensors struct {
	part    string // stem, block, head
	block   int
	names   []string
	n       int
	hasBase bool
}

func (pt partTensors) ref(j, depth int) TensorRef {
	name := pt.names[j]
	if pt.part == "block" {
		name = fmt.Sprintf("blocks.%d.%s", pt.block, name)
	}
	return TensorRef{Name: name, Part: pt.part, Block: pt.block, Depth: depth}
}

// tensorParamProblems checks the parameters of every tensor of a result
// (the method's count of models and every parameter as
// CheckWeightMergeParams does), naming each problem once with the first
// tensor it concerns and how many more.
func tensorParamProblems(method string, depth int, parts []partTensors, params func(ref TensorRef, part, j int) ([]methods.Params, methods.Params)) []string {
	grouped := map[string][]string{}
	var order []string
	for k, pt := range parts {
		for j := range pt.names {
			ref := pt.ref(j, depth)
			per, global := params(ref, k, j)
			for _, msg := range weightMergeParamProblems(method, pt.n, pt.hasBase, per, global) {
				if strings.Contains(msg, "needs a base model") {
					continue // reported per part
				}
				if _, seen := grouped[msg]; !seen {
					order = append(order, msg)
				}
				grouped[msg] = append(grouped[msg], ref.Name)
			}
		}
	}
	var out []string
	for _, msg := range order {
		ts := grouped[msg]
		if len(ts) == 1 {
			out = append(out, fmt.Sprintf("%s: %s", ts[0], msg))
		} else {
			out = append(out, fmt.Sprintf("%s and %d more tensors: %s", ts[0], len(ts)-1, msg))
		}
	}
	return out
}
