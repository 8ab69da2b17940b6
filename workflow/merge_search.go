package workflow

import (
	"fmt"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// mergeSearch looks for the best plan over the sources' blocks on the
// validation split and stores it as a splice. The test split is touched
// only after the search, to report the chosen plans.
func mergeSearch(s *checkpoint.Store, req MergeRequest) (*MergeOutcome, error) {
	names, err := ExpandFrom(s, req.From)
	if err != nil {
		return nil, err
	}
	if err := namesFree(s, []string{req.Out}); err != nil {
		return nil, err
	}
	src, err := loadSources(s, names, false)
	if err != nil {
		return nil, err
	}
	data, err := mergeData(req, src)
	if err != nil {
		return nil, err
	}
	eval := &modelEval{tasks: []*modelstore.Data{data}, orders: req.Orders, seed: req.Seed}
	opt := req.Search
	opt.Seed = req.Seed
	opt.Stem = req.Stem
	if opt.Stem == "" {
		// The best source on validation gives stem and head, so its own plan
		// is in the search space and the result can only beat it.
		best := -1.0
		for _, m := range src.pool.Models {
			if err := eval.check(m); err != nil {
				return nil, err
			}
			norm, err := modelstore.Normalization(src.mans[m.Name])
			if err != nil {
				return nil, err
			}
			if v := eval.val(m, norm); v > best {
				best, opt.Stem = v, m.Name
			}
		}
	}
	stem := src.pool.Get(opt.Stem)
	if stem == nil {
		return nil, fmt.Errorf("--stem: model %s is not among the sources (--from)", opt.Stem)
	}
	if err := eval.check(stem); err != nil {
		return nil, err
	}
	norm, err := modelstore.Normalization(src.mans[opt.Stem])
	if err != nil {
		return nil, err
	}
	ev := trainer.NewEvaluator(stem, data.Val, norm)
	ticks := map[string]func(int){}
	progress := func(stage string, done, total int) {
		if ticks[stage] == nil {
			ticks[stage] = trainer.NewCounter(req.Log, "search: "+stage, total)
		}
		ticks[stage](done)
	}
	score := func(plans []vit.Plan) []float64 {
		acc, _ := ev.AccuracyOfPlans(plans)
		return acc
	}
	res, err := merge.Search(src.pool, opt, score, progress)
	if err != nil {
		return nil, err
	}
	// Only now the test split: the chosen plans, the greedy one and the
	// stem model's own.
	test := trainer.NewEvaluator(stem, data.Test, norm)
	for _, t := range []struct {
		plan []merge.Ref
		acc  *float64
	}{{res.Best.Blocks, &res.BestTest}, {res.Greedy.Blocks, &res.GreedyTest}, {res.Baseline.Blocks, &res.BaselineTest}} {
		if len(t.plan) == 0 {
			continue
		}
		m, err := merge.Splice{Stem: opt.Stem, Head: opt.Stem, Blocks: t.plan}.Build("tmp", src.pool)
		if err != nil {
			return nil, err
		}
		*t.acc, _ = test.Accuracy(m.Blocks)
	}
	sp := merge.Splice{Stem: opt.Stem, Head: opt.Stem, Blocks: res.Best.Blocks}
	rec := merge.Record{Method: "search", From: names, Seed: req.Seed, Search: res}
	p, err := spliceModel(src, req.Out, sp, rec)
	if err != nil {
		return nil, err
	}
	out, err := finishWith(s, req, "search", src, []*planned{p}, false, eval)
	if err != nil {
		return nil, err
	}
	out.Search = res
	return out, nil
}
