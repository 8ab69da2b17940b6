package workflow

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// mergeSoup averages the sources' weights: all of them (uniform) or those
// the greedy soup keeps on the validation split. The soup is stored with
// new weights.
func mergeSoup(s *checkpoint.Store, req MergeRequest, greedy bool) (*MergeOutcome, error) {
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
	method := "uniform-soup"
	first := src.mans[names[0]]
	norm, err := modelstore.Normalization(first)
	if err != nil {
		return nil, err
	}
	var soup *vit.Model
	var res *merge.SoupResult
	var eval *modelEval
	if greedy {
		method = "greedy-soup"
		data, err := mergeData(req, src)
		if err != nil {
			return nil, err
		}
		eval = &modelEval{tasks: []*modelstore.Data{data}, orders: req.Orders, seed: req.Seed}
		if err := eval.check(src.pool.Models[0]); err != nil {
			return nil, err
		}
		tick := trainer.NewCounter(req.Log, "greedy soup: validation accuracy of members and soups", 2*len(names)-1)
		done := 0
		score := func(m *vit.Model) float64 {
			done++
			defer tick(done)
			return eval.val(m, norm)
		}
		soup, res, err = merge.GreedySoup(req.Out, src.pool.Models, score)
		if err != nil {
			return nil, err
		}
	} else {
		if soup, err = merge.Average(req.Out, src.pool.Models...); err != nil {
			return nil, err
		}
		res = &merge.SoupResult{Ingredients: names}
	}
	rec := merge.Record{Method: method, From: names, Soup: res}
	recJSON, _ := json.Marshal(rec)
	man := &checkpoint.Manifest{FormatVersion: checkpoint.ManifestFormatVersion, Name: req.Out, CreatedAt: time.Now().UTC(),
		Status: "complete", Data: first.Data, Normalization: first.Normalization, Training: first.Training,
		Parent: commonParent(src.mans, res.Ingredients), Recipe: recJSON, Metrics: map[string]float64{}}
	p := &planned{model: soup, man: man, result: MergedModel{Name: req.Out, Role: "merged",
		Plan: fmt.Sprintf("%s of %d: %s", method, len(res.Ingredients), shortNames(res.Ingredients))}}
	out, err := finishWith(s, req, method, src, []*planned{p}, false, eval)
	if err != nil {
		return nil, err
	}
	out.Soup = res
	return out, nil
}

// commonParent is the parent all the named models share, or "".
func commonParent(mans map[string]*checkpoint.Manifest, names []string) string {
	parent := mans[names[0]].Parent
	for _, n := range names[1:] {
		if mans[n].Parent != parent {
			return ""
		}
	}
	return parent
}
