package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

// mergeWeights merges the sources' weights with one of merge/methods'
// mergekit methods, tensor by tensor (merge.WeightMerge). The method, the
// model count, the base and the parameters are checked from the manifests
// before any weight blob is read, every problem in one message; the shapes
// once the models are loaded; nothing is stored unless all is well. The
// result is stored with new weights, like a soup.
func mergeWeights(s *checkpoint.Store, req MergeRequest) (*MergeOutcome, error) {
	method := req.Method
	names, err := ExpandFrom(s, req.From)
	if err != nil {
		return nil, err
	}
	m, _ := methods.Lookup(method)
	spec := m.Spec()
	mans, err := manifestsOf(s, names)
	if err != nil {
		return nil, err
	}
	base, problems := resolveBase(s, req.Base, method, spec.NeedsBase, mans, names)
	per, global, wp := weightParams(req, len(names), spec)
	problems = append(problems, wp...)
	// A missing base is reported above (with the reason), so not again here.
	if err := merge.CheckWeightMergeParams(method, len(names), true, per, global); err != nil {
		var pe *merge.ProblemsError
		if errors.As(err, &pe) {
			problems = append(problems, pe.Problems...)
		} else {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return nil, &merge.ProblemsError{What: "merge --method " + method, Problems: problems}
	}
	if err := namesFree(s, []string{req.Out}); err != nil {
		return nil, err
	}
	src, err := loadSources(s, names, false)
	if err != nil {
		return nil, err
	}
	baseModel, err := loadBase(s, base)
	if err != nil {
		return nil, err
	}
	// Each model's own task, so that a multi-task merge keeps each task's head.
	tasks := make([]string, len(names))
	for i, n := range names {
		tasks[i] = src.mans[n].Data
	}
	res, err := merge.WeightMergeTasks(req.Out, method, baseModel, src.pool.Models, tasks, per, global, req.Seed)
	if err != nil {
		var pe *merge.ProblemsError
		if errors.As(err, &pe) {
			pe.What = "merge --method " + method
		}
		return nil, err
	}
	out := res.Model
	rec := merge.Record{Method: method, From: names, Seed: req.Seed, Base: base, Heads: res.Heads}
	if len(global) > 0 {
		rec.Params = maps.Clone(global)
	}
	for _, ps := range per {
		if len(ps) > 0 {
			rec.PerModel = make([]map[string]float64, len(per))
			for i, p := range per {
				rec.PerModel[i] = maps.Clone(p)
			}
			break
		}
	}
	p, err := mergedWeights(req, src, names, out, rec)
	if err != nil {
		return nil, err
	}
	return finish(s, req, method, src, []*planned{p}, false)
}

// mergedWeights plans the store of a merge that made new weights (a
// weight merge, from flags or a mergekit configuration, or a data-driven
// one) of the named sources: its manifest
// takes the first source's data, normalisation and training, the base (or
// else the sources' common parent) as parent, and rec as recipe.
func mergedWeights(req MergeRequest, src *sources, names []string, out *vit.Model, rec merge.Record) (*planned, error) {
	recJSON, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	first := src.mans[names[0]]
	parent := rec.Base
	if parent == "" {
		parent = commonParent(src.mans, names)
	}
	man := &checkpoint.Manifest{FormatVersion: checkpoint.ManifestFormatVersion, Name: req.Out, CreatedAt: time.Now().UTC(),
		Status: "complete", Data: first.Data, Normalization: first.Normalization, Training: first.Training,
		Parent: parent, Seed: req.Seed, Recipe: recJSON, Metrics: map[string]float64{}}
	method := rec.Method
	if rec.RecipeFile != "" {
		method += " (mergekit)" // built from a mergekit configuration
	}
	plan := fmt.Sprintf("%s of %d: %s", method, len(names), shortNames(names))
	if rec.Base != "" {
		plan += " (base " + rec.Base + ")"
	}
	return &planned{model: out, man: man, result: MergedModel{Name: req.Out, Role: "merged", Plan: plan}}, nil
}

// weightParams turns the request's --weights and parameters into the
// per-model and merge-wide parameters of merge.WeightMerge: one weight per
// model, or one for all (merge-wide), or, when the method requires a weight
// and none is given, 1 for every model.
func weightParams(req MergeRequest, n int, spec methods.Spec) (per []methods.Params, global methods.Params, problems []string) {
	global = maps.Clone(req.Params)
	if global == nil {
		global = methods.Params{}
	}
	switch len(req.Weights) {
	case 0:
		// From flags, a method whose models need a weight (mergekit requires
		// one: linear, task arithmetic, TIES, DARE, ...) gives every model
		// weight 1 unless --weights says otherwise: the plain sum of task
		// vectors scaled by lambda (task arithmetic as FusionBench defines
		// it), or the plain average for a normalized linear merge.
		if p, ok := spec.Param("weight"); ok && p.Required {
			if _, given := global["weight"]; !given {
				global["weight"] = 1
			}
		}
	case 1:
		global["weight"] = req.Weights[0]
	case n:
		per = make([]methods.Params, n)
		for i, w := range req.Weights {
			per[i] = methods.Params{"weight": w}
		}
	default:
		problems = append(problems, fmt.Sprintf("--weights: %d weights for %d models (give one per model, or one for all)", len(req.Weights), n))
	}
	return per, global, problems
}

// resolveBase is the base of a merge: the one given, or for a method that
// needs one the sources' common parent; a method that takes none ignores it
// (as mergekit does). Problems name a base that is needed but missing.
func resolveBase(s *checkpoint.Store, given, method string, needs bool, mans map[string]*checkpoint.Manifest, names []string) (string, []string) {
	if !needs {
		return "", nil
	}
	base := given
	if base == "" {
		if base = commonParent(mans, names); base == "" {
			return "", []string{fmt.Sprintf("%s needs a base model: give --base (the sources share no parent)", method)}
		}
	}
	if !s.Exists(base) {
		return base, []string{fmt.Sprintf("--base: no model %q in store %s", base, s.Dir)}
	}
	return base, nil
}

// loadBase loads a merge's base model (nil for none).
func loadBase(s *checkpoint.Store, base string) (*vit.Model, error) {
	if base == "" {
		return nil, nil
	}
	st, err := modelstore.Load(s, base)
	if err != nil {
		return nil, fmt.Errorf("--base %s: %v", base, err)
	}
	return st.Model, nil
}

// manifestsOf reads the named models' manifests (no weight), by name.
func manifestsOf(s *checkpoint.Store, names []string) (map[string]*checkpoint.Manifest, error) {
	mans := map[string]*checkpoint.Manifest{}
	for _, n := range names {
		man, err := s.Get(n)
		if err != nil {
			return nil, err
		}
		mans[n] = man
	}
	return mans, nil
}
