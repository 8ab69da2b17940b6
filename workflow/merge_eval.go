package workflow

import (
	"fmt"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// mergeData loads the data the sources were trained on, with the same
// validation split (carved as their training carved it) and the whole test
// split; the sources must agree on it (a population does). The request's
// Limit shortens both.
func mergeData(req MergeRequest, src *sources) (*modelstore.Data, error) {
	var opt modelstore.DataOptions
	var first string
	for _, m := range src.pool.Models {
		rec, err := modelstore.ManifestTraining(src.mans[m.Name])
		if err != nil {
			return nil, err
		}
		d := rec.Data
		if first == "" {
			opt, first = d, m.Name
			continue
		}
		if d != opt {
			return nil, fmt.Errorf("models %s and %s were trained on different data or validation splits (%s val %g seed %d limit %d vs %s val %g seed %d limit %d): merge models of one data set, or pass --eval=false",
				first, m.Name, opt.Spec, opt.ValFrac, opt.ValSeed, opt.Limit, d.Spec, d.ValFrac, d.ValSeed, d.Limit)
		}
	}
	if req.Data != "" {
		opt.Spec = req.Data
	}
	data, err := modelstore.LoadTrainedData(opt)
	if err != nil {
		return nil, err
	}
	if req.Limit > 0 {
		data.Val, data.Test = data.Val.Limit(req.Limit), data.Test.Limit(req.Limit)
	}
	return data, nil
}

// modelEval measures models on the validation and test splits.
type modelEval struct {
	data   *modelstore.Data
	orders int
	seed   uint64
}

// normOf is the normalisation in m's manifest, checked against m's
// channels (a merge's new manifest gets its config only when stored).
func normOf(man *checkpoint.Manifest, m *vit.Model) (dataset.Normalization, error) {
	return modelstore.ManifestNormalization(man, m.Config.Channels)
}

// check refuses data the model cannot read.
func (e *modelEval) check(m *vit.Model) error {
	return modelstore.CheckDataFits(m.Config, e.data.Test, len(e.data.Set.Classes), m.Name, e.data.Set.Name)
}

// val is the validation accuracy of m's own plan.
func (e *modelEval) val(m *vit.Model, norm dataset.Normalization) float64 {
	acc, _ := trainer.NewEvaluator(m, e.data.Val, norm).Accuracy(m.Sequential())
	return acc
}

// measure fills the accuracies of one row.
func (e *modelEval) measure(m *vit.Model, norm dataset.Normalization, row *MergedModel) error {
	if err := e.check(m); err != nil {
		return err
	}
	row.ValAccuracy = e.val(m, norm)
	ev := trainer.NewEvaluator(m, e.data.Test, norm)
	row.TestSequential, _ = ev.Accuracy(m.Sequential())
	if e.orders > 0 {
		res, err := ev.EvaluateOrder(trainer.Order{Kind: "random", K: e.orders}, e.seed)
		if err != nil {
			return err
		}
		row.TestRandom, row.TestRandomStd = res.Accuracy, res.AccuracyStd
	}
	row.Evaluated = true
	return nil
}

// evaluateAll measures the sources and the planned models the same way
// (same splits, same random orders) and records the results' metrics.
func evaluateAll(req MergeRequest, src *sources, plans []*planned, out *MergeOutcome) error {
	data, err := mergeData(req, src)
	if err != nil {
		return err
	}
	e := &modelEval{data: data, orders: req.Orders, seed: req.Seed}
	return evaluateWith(e, req, src, plans, out)
}

func evaluateWith(e *modelEval, req MergeRequest, src *sources, plans []*planned, out *MergeOutcome) error {
	out.Data = e.data.Set.Name
	out.ValImages, out.TestImages = e.data.Val.N, e.data.Test.N
	if e.orders > 0 {
		out.Orders = fmt.Sprintf("random:%d", e.orders)
	}
	tick := trainer.NewCounter(req.Log, "evaluating sources and merged models", len(out.Sources)+len(plans))
	done := 0
	for i, m := range src.pool.Models {
		norm, err := normOf(src.mans[m.Name], m)
		if err != nil {
			return err
		}
		if err := e.measure(m, norm, &out.Sources[i]); err != nil {
			return err
		}
		done++
		tick(done)
	}
	for _, p := range plans {
		norm, err := normOf(p.man, p.model)
		if err != nil {
			return err
		}
		if err := e.measure(p.model, norm, &p.result); err != nil {
			return err
		}
		p.man.Metrics["val_accuracy"] = p.result.ValAccuracy
		p.man.Metrics["test_accuracy"] = p.result.TestSequential
		if e.orders > 0 {
			p.man.Metrics["test_accuracy_random"] = p.result.TestRandom
			p.man.Metrics["test_accuracy_random_std"] = p.result.TestRandomStd
		}
		done++
		tick(done)
	}
	return nil
}
