package workflow

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/prune"
	"github.com/frankenvit/frankenvit/trainer"
)

// PruneRequest is everything `frankenvit prune` needs.
type PruneRequest struct {
	Name, Out string
	Remove    int
	Strategy  string
	Seed      uint64 // random
	// Split is what greedy, influence and angular measure on: val (the
	// model's own validation split, the default) or train.
	Split string
	Limit int       // measure on the first Limit images of Split only
	Log   io.Writer // progress; nil for none
}

// PruneOutcome is a stored pruned model.
type PruneOutcome struct {
	Model              string       `json:"model"`
	Plan               string       `json:"plan"` // source[index] of every kept block
	Recipe             prune.Recipe `json:"recipe"`
	TestAccuracy       float64      `json:"test_accuracy"`
	TestImages         int          `json:"test_images"`          // the whole test split of the model's data
	SourceTestAccuracy float64      `json:"source_test_accuracy"` // on the same TestImages
}

// Prune removes Remove blocks from a stored model's plan and stores the rest
// as a new model: a manifest pointing at the same blobs, with the strategy,
// K and the scores as its recipe and the test accuracy as its metric.
func Prune(s *checkpoint.Store, req PruneRequest) (*PruneOutcome, error) {
	strategy, err := prune.ParseStrategy(req.Strategy)
	if err != nil {
		return nil, fmt.Errorf("--strategy: %v", err)
	}
	if err := checkpoint.ValidName(req.Out); err != nil {
		return nil, err
	}
	if s.Exists(req.Out) {
		return nil, fmt.Errorf("model %s already exists in store %s: choose another name", req.Out, s.Dir)
	}
	if req.Split == "" {
		req.Split = "val"
	}
	if req.Split != "val" && req.Split != "train" {
		return nil, fmt.Errorf("bad --split %q: pruning measures on val or train, never on the test split it is judged on", req.Split)
	}
	md, err := modelstore.LoadModelData(s, req.Name, "", nil)
	if err != nil {
		return nil, err
	}
	if n := len(md.Model.Blocks); req.Remove < 1 || req.Remove >= n {
		return nil, fmt.Errorf("--remove %d: model %s has %d blocks, remove 1..%d", req.Remove, req.Name, n, n-1)
	}
	recipe := prune.Recipe{Kind: "prune", From: req.Name}
	var val *trainer.Evaluator
	if strategy.NeedsData() {
		split, _ := md.Data.Split(req.Split)
		if req.Limit > 0 {
			split = split.Limit(req.Limit)
		}
		if split.N == 0 {
			return nil, fmt.Errorf("model %s has no %s images to measure %s pruning on (trained with --val-frac 0?): use --split train",
				req.Name, req.Split, strategy)
		}
		val = trainer.NewEvaluator(md.Model, split, md.Norm)
		recipe.MeasuredOn = fmt.Sprintf("%s split of %s, %d images", req.Split, md.Spec, split.N)
	}
	p := prune.NewPruner(md.Model, val)
	p.Log = req.Log
	if recipe.Result, err = p.Remove(strategy, req.Remove, req.Seed); err != nil {
		return nil, err
	}
	plan := p.Plan(recipe.Result)
	test := trainer.NewEvaluator(md.Model, md.Data.Test, md.Norm)
	acc, _ := test.Accuracy(plan)
	// The source on the same images: its stored test accuracy may have been
	// measured on fewer (a training's --limit shortens its own test split).
	srcAcc, _ := test.Accuracy(md.Model.Sequential())
	src := md.Manifest
	raw, err := json.Marshal(recipe)
	if err != nil {
		return nil, err
	}
	man := &checkpoint.Manifest{FormatVersion: checkpoint.ManifestFormatVersion, Name: req.Out, CreatedAt: time.Now().UTC(),
		Status: "complete", Variant: src.Variant, Config: src.Config, Data: src.Data, Normalization: src.Normalization,
		Seed: src.Seed, Parent: src.Name, Training: src.Training, Stem: src.Stem, Head: src.Head, Recipe: raw,
		Metrics: map[string]float64{"test_accuracy": acc, "blocks_removed": float64(req.Remove)}}
	for _, k := range recipe.Kept {
		man.Blocks = append(man.Blocks, src.Blocks[k])
	}
	if err := s.Create(man); err != nil {
		return nil, err
	}
	return &PruneOutcome{Model: req.Out, Plan: plan.String(), Recipe: recipe, TestAccuracy: acc, TestImages: md.Data.Test.N,
		SourceTestAccuracy: srcAcc}, nil
}
