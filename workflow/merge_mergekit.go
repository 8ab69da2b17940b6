package workflow

import (
	"errors"
	"fmt"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

// manifestInfo reads what checking a merge needs from a model's manifest
// (config, depth of its plan, its task), no weight.
func manifestInfo(s *checkpoint.Store, name string) (merge.ModelInfo, bool, error) {
	man, err := s.Get(name)
	if errors.Is(err, checkpoint.ErrNotFound) || checkpoint.ValidName(name) != nil {
		return merge.ModelInfo{}, false, nil
	}
	if err != nil {
		return merge.ModelInfo{}, false, err
	}
	cfg, err := modelstore.ManifestConfig(man)
	if err != nil {
		return merge.ModelInfo{}, false, err
	}
	return merge.ModelInfo{Config: cfg, Depth: len(man.Blocks), Task: man.Data}, true, nil
}

// mergeMergekit runs a mergekit configuration (its YAML as published): the
// whole configuration is checked against the models' manifests before any
// weight is read, every problem in one message with its line; the merged
// model is stored with new weights and a record holding the configuration.
func mergeMergekit(s *checkpoint.Store, req MergeRequest, file string, text []byte) (*MergeOutcome, error) {
	what := "mergekit config " + file
	if len(req.From) > 0 {
		return nil, fmt.Errorf("--from does not apply to a recipe: %s names its own models", what)
	}
	cfg, formErr := merge.ParseMergekit(text)
	if cfg == nil {
		return nil, fmt.Errorf("%s: %v", what, formErr)
	}
	if merge.IsDataMethod(cfg.Method) {
		return mergekitLearned(s, req, file, text, cfg, formErr)
	}
	var lookupErr error
	plan, err := cfg.Plan(func(name string) (merge.ModelInfo, bool) {
		info, ok, err := manifestInfo(s, name)
		if err != nil && lookupErr == nil {
			lookupErr = err
		}
		return info, ok
	}, formErr)
	if lookupErr != nil {
		return nil, fmt.Errorf("%s: %v", what, lookupErr)
	}
	if err != nil {
		var pe *merge.ProblemsError
		if errors.As(err, &pe) {
			pe.What = what
		}
		return nil, err
	}
	for _, w := range cfg.Warnings {
		if req.Log != nil {
			fmt.Fprintf(req.Log, "warning: %s: %s\n", what, w)
		}
	}
	if err := namesFree(s, []string{req.Out}); err != nil {
		return nil, err
	}
	// The merged models are the sources (evaluated beside the result); the
	// base is loaded on its own.
	var srcNames []string
	for _, n := range plan.Names {
		if n != plan.Base {
			srcNames = append(srcNames, n)
		}
	}
	src, err := loadSources(s, srcNames, false)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	models := make([]*vit.Model, len(plan.Names))
	for i, n := range plan.Names {
		if m := src.pool.Get(n); m != nil {
			models[i] = m
			continue
		}
		st, err := modelstore.Load(s, n)
		if err != nil {
			return nil, fmt.Errorf("%s: base_model %s: %v", what, n, err)
		}
		models[i] = st.Model
	}
	res, err := merge.MergeWeights(plan.Spec(req.Out, models, req.Seed))
	if err != nil {
		var pe *merge.ProblemsError
		if errors.As(err, &pe) {
			pe.What = what
		}
		return nil, err
	}
	rec := merge.Record{Method: plan.Method, From: srcNames, Seed: req.Seed, Base: plan.Base, RecipeFile: file,
		RecipeText: string(text), Heads: res.Heads}
	p, err := mergedWeights(req, src, srcNames, res.Model, rec)
	if err != nil {
		return nil, err
	}
	return finish(s, req, plan.Method, src, []*planned{p}, false)
}
