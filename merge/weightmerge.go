package merge

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/vit"
)

// CheckWeightMergeParams reports every reason a weight merge with method of
// n models (and a base when hasBase) cannot run, looking at the method, the
// model count and the parameters only (no weights are needed, so a caller
// can check before loading anything): an unknown method, the wrong number of
// models, a missing base, a parameter the method does not take (or a
// merge-wide one given per model), a required parameter missing, a value out
// of range or not 0/1 for a switch. per is empty or has one entry per model.
func CheckWeightMergeParams(method string, n int, hasBase bool, per []methods.Params, global methods.Params) error {
	return problemsOrNil("weight merge", weightMergeParamProblems(method, n, hasBase, per, global))
}

func weightMergeParamProblems(method string, n int, hasBase bool, per []methods.Params, global methods.Params) []string {
	m, ok := methods.Lookup(method)
	if !ok {
		return []string{fmt.Sprintf("unknown method %q (known: %s)", method, strings.Join(methods.Names(), ", "))}
	}
	s := m.Spec()
	var out []string
	if n < s.MinModels {
		out = append(out, fmt.Sprintf("%s merges at least %d model(s) besides the base, got %d", method, s.MinModels, n))
	}
	if s.MaxModels > 0 && n > s.MaxModels {
		out = append(out, fmt.Sprintf("%s merges at most %d model(s) besides the base, got %d", method, s.MaxModels, n))
	}
	if s.NeedsBase && !hasBase {
		out = append(out, fmt.Sprintf("%s needs a base model (task vectors are model - base)", method))
	}
	if len(per) != 0 && len(per) != n {
		out = append(out, fmt.Sprintf("%d per-model parameter sets for %d models", len(per), n))
	}
	names := make([]string, len(s.Params))
	for i, p := range s.Params {
		names[i] = p.Name
	}
	takes := "takes no parameters"
	if len(names) > 0 {
		takes = "takes " + strings.Join(names, ", ")
	}
	checkValue := func(where string, p methods.ParamSpec, v float64) {
		problem := p.Problem(v)
		switch {
		case p.Bool && v != 0 && v != 1:
			out = append(out, fmt.Sprintf("%s: %s is a switch, 0 or 1, got %v", where, p.Name, v))
		case problem != "":
			out = append(out, where+": "+problem)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(global)) {
		p, ok := s.Param(k)
		if !ok {
			out = append(out, fmt.Sprintf("unknown parameter %q: %s %s", k, method, takes))
			continue
		}
		checkValue(method, p, global[k])
	}
	for i, ps := range per {
		where := fmt.Sprintf("model %d", i+1)
		for _, k := range slices.Sorted(maps.Keys(ps)) {
			p, ok := s.Param(k)
			if !ok {
				out = append(out, fmt.Sprintf("%s: unknown parameter %q: %s %s", where, k, method, takes))
				continue
			}
			if !p.PerModel {
				out = append(out, fmt.Sprintf("%s: %s is a merge-wide parameter of %s, not a per-model one", where, k, method))
				continue
			}
			checkValue(where, p, ps[k])
		}
	}
	for _, p := range s.Params {
		if !p.Required {
			continue
		}
		if _, ok := global[p.Name]; ok {
			continue
		}
		if !p.PerModel {
			out = append(out, fmt.Sprintf("%s needs parameter %s (%s)", method, p.Name, p.Doc))
			continue
		}
		var missing []string
		for i := 0; i < n; i++ {
			if i < len(per) {
				if _, ok := per[i][p.Name]; ok {
					continue
				}
			}
			missing = append(missing, fmt.Sprint(i+1))
		}
		if len(missing) == n && n > 0 {
			out = append(out, fmt.Sprintf("%s needs parameter %s (%s), for every model or for the merge", method, p.Name, p.Doc))
		} else if len(missing) > 0 {
			out = append(out, fmt.Sprintf("%s needs parameter %s for model(s) %s (or one for the merge)", method, p.Name, strings.Join(missing, ", ")))
		}
	}
	return out
}

// CheckWeightMerge reports every reason WeightMerge cannot run, in one
// error (a *ProblemsError), touching no weight: the problems of
// CheckWeightMergeParams, a missing model, and models or a base whose
// parameters differ from the first model's (naming the model and the first
// tensor that differs). A base given to a method that takes none is ignored,
// as mergekit does.
func CheckWeightMerge(method string, base *vit.Model, models []*vit.Model, per []methods.Params, global methods.Params) error {
	out := weightMergeParamProblems(method, len(models), base != nil, per, global)
	var first *vit.Model
	for i, m := range models {
		if m == nil {
			out = append(out, fmt.Sprintf("model %d is missing", i+1))
			continue
		}
		if first == nil {
			first = m
			continue
		}
		if err := vit.SameShapes(first, m); err != nil {
			out = append(out, fmt.Sprintf("model %s has another shape: %v", m.Name, err))
		}
	}
	if spec, ok := methods.Lookup(method); ok && spec.Spec().NeedsBase && base != nil && first != nil {
		if err := vit.SameShapes(first, base); err != nil {
			out = append(out, fmt.Sprintf("base %s has another shape: %v", base.Name, err))
		}
	}
	return problemsOrNil("weight merge", out)
}

// WeightMerge merges whole models with one of merge/methods' mergekit
// methods: every parameter tensor of the stem, every block and the head is
// merged on its own (per tensor, as mergekit defines the methods), in the
// order of the models' Params(). base is the base model of methods that need
// one (its task vectors are model - base) and is ignored by the others; per
// holds each model's parameters (empty, or one entry per model), global the
// merge-wide ones; a per-model parameter given in global applies to every
// model. Random methods (DARE, DELLA) draw from a generator seeded by seed and
// the tensor's index, so the result depends on nothing else. Everything is
// checked by CheckWeightMerge first. The result is named name, has the
// models' config and its own blocks in sequential order.
func WeightMerge(name, method string, base *vit.Model, models []*vit.Model, per []methods.Params, global methods.Params, seed uint64) (*vit.Model, error) {
	res, err := WeightMergeTasks(name, method, base, models, nil, per, global, seed)
	if err != nil {
		return nil, err
	}
	return res.Model, nil
}

// WeightMergeTasks is WeightMerge of models that each have their own task
// (tasks[i] is model i's, e.g. its manifest's data set; nil for none): a
// merge of multi-task models keeps each task's head rows from the model of
// that task (see WeightMergeSpec.Tasks), and the result says which.
func WeightMergeTasks(name, method string, base *vit.Model, models []*vit.Model, tasks []string, per []methods.Params, global methods.Params, seed uint64) (*WeightMergeResult, error) {
	if err := CheckWeightMerge(method, base, models, per, global); err != nil {
		return nil, err
	}
	if tasks != nil && len(tasks) != len(models) {
		return nil, fmt.Errorf("weight merge: %d tasks for %d models", len(tasks), len(models))
	}
	m, _ := methods.Lookup(method)
	all := append([]*vit.Model(nil), models...)
	idx := make([]int, len(models))
	for i := range idx {
		idx[i] = i
	}
	var allTasks []string
	if tasks != nil {
		allTasks = append([]string(nil), tasks...)
	}
	baseIdx := -1
	if m.Spec().NeedsBase {
		baseIdx = len(all)
		all = append(all, base)
		if allTasks != nil {
			allTasks = append(allTasks, "")
		}
	}
	stem, blocks, head := SequentialParts(idx, baseIdx, len(models[0].Blocks))
	return MergeWeights(WeightMergeSpec{Name: name, Method: method, Models: all, Stem: stem, Blocks: blocks, Head: head,
		Params: func(TensorRef) ([]methods.Params, methods.Params) { return per, global }, Seed: seed, Tasks: allTasks})
}

// emptyLike allocates a model named name with first's config and blocks of
// first's blocks' sizes, in sequential order.
func emptyLike(name string, first *vit.Model) (*vit.Model, error) {
	out, err := vit.NewModel(name, first.Config)
	if err != nil {
		return nil, err
	}
	out.Blocks = out.Blocks[:0]
	for i, b := range first.Blocks {
		spec := vit.BlockSpec{Dim: b.Dim, Heads: b.Heads, MLP: b.MLP, PosDim: b.PosDim, Slots: b.Slots}
		out.Blocks = append(out.Blocks, vit.NewBlock(spec, name, i))
	}
	if err := vit.SameShapes(out, first); err != nil {
		return nil, err
	}
	return out, nil
}
