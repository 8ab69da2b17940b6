package workflow

import (
	"fmt"
	"strings"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/stats"
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
		if d.Tasks != "" {
			d.Spec = "" // children of a multi-task population differ by their task only
		}
		if first == "" {
			opt, first = d, m.Name
			continue
		}
		if d != opt {
			return nil, fmt.Errorf("models %s and %s were trained on different data or validation splits (%s val %g seed %d limit %d vs %s val %g seed %d limit %d): merge models of one data set, or pass --eval=false",
				first, m.Name, opt.Spec, opt.ValFrac, opt.ValSeed, opt.Limit, d.Spec, d.ValFrac, d.ValSeed, d.Limit)
		}
	}
	if opt.Tasks != "" && req.Data == "" {
		return nil, fmt.Errorf("the sources are children of a multi-task population (tasks %s), and this method measures one data set: give --data with one of the tasks", opt.Tasks)
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

// mergeTaskData loads, for sources that are children of a multi-task
// population, each of their tasks' data (carved as a training on that task
// carves it, labels in the models' numbering); nil for single-task sources
// or when the request names other data. The request's Limit shortens every
// task's splits.
func mergeTaskData(req MergeRequest, src *sources) ([]*modelstore.Data, error) {
	if req.Data != "" {
		return nil, nil
	}
	var tasks []*modelstore.Data
	seen := map[string]bool{}
	for _, m := range src.pool.Models {
		rec, err := modelstore.ManifestTraining(src.mans[m.Name])
		if err != nil {
			return nil, err
		}
		d := rec.Data
		if d.Tasks == "" {
			return nil, nil
		}
		if seen[d.Spec] {
			continue
		}
		seen[d.Spec] = true
		data, err := modelstore.LoadTrainedData(d)
		if err != nil {
			return nil, err
		}
		if req.Limit > 0 {
			data.Val, data.Test = data.Val.Limit(req.Limit), data.Test.Limit(req.Limit)
		}
		tasks = append(tasks, data)
	}
	return tasks, nil
}

// newModelEval prepares the evaluation of a merge's sources and results:
// on the sources' data, or, for children of a multi-task population, on
// each of their tasks (every model through each task's own head), averaged.
func newModelEval(req MergeRequest, src *sources) (*modelEval, error) {
	tasks, err := mergeTaskData(req, src)
	if err != nil {
		return nil, err
	}
	if tasks == nil {
		data, err := mergeData(req, src)
		if err != nil {
			return nil, err
		}
		tasks = []*modelstore.Data{data}
	}
	return &modelEval{tasks: tasks, orders: req.Orders, seed: req.Seed}, nil
}

// modelEval measures models on the validation and test splits; with
// several tasks, the average over them.
type modelEval struct {
	tasks  []*modelstore.Data
	orders int
	seed   uint64
	// evaluated, if set, is told the images each evaluation pass ran
	// (validation, test, the test under the random orders), for progress.
	evaluated func(images int)
}

// passed reports images evaluated to the progress counter, if any.
func (e *modelEval) passed(images int) {
	if e.evaluated != nil {
		e.evaluated(images)
	}
}

// imagesPerModel is how many images measure runs for one model.
func (e *modelEval) imagesPerModel() int {
	n := 0
	for _, d := range e.tasks {
		n += d.Val.N + d.Test.N*(1+e.orders)
	}
	return n
}

// normOf is the normalisation in m's manifest, checked against m's
// channels (a merge's new manifest gets its config only when stored).
func normOf(man *checkpoint.Manifest, m *vit.Model) (dataset.Normalization, error) {
	return modelstore.ManifestNormalization(man, m.Config.Channels)
}

// check refuses data the model cannot read.
func (e *modelEval) check(m *vit.Model) error {
	for _, d := range e.tasks {
		if err := modelstore.CheckDataFits(m.Config, d.Test, len(d.Set.Classes), m.Name, d.Set.Name); err != nil {
			return err
		}
	}
	return nil
}

// val is the validation accuracy of m's own plan (the mean over the tasks).
func (e *modelEval) val(m *vit.Model, norm dataset.Normalization) float64 {
	var sum float64
	for _, d := range e.tasks {
		acc, _ := trainer.NewEvaluator(m, d.Val, norm).Accuracy(m.Sequential())
		sum += acc
		e.passed(d.Val.N)
	}
	return sum / float64(len(e.tasks))
}

// measure fills the accuracies of one row: with several tasks, the mean
// over them, the random orders' spread taken over the per-order means (the
// same orders on every task).
func (e *modelEval) measure(m *vit.Model, norm dataset.Normalization, row *MergedModel) error {
	if err := e.check(m); err != nil {
		return err
	}
	row.ValAccuracy = e.val(m, norm)
	var seq float64
	perOrder := make([]float64, e.orders)
	for _, d := range e.tasks {
		ev := trainer.NewEvaluator(m, d.Test, norm)
		acc, _ := ev.Accuracy(m.Sequential())
		seq += acc / float64(len(e.tasks))
		e.passed(d.Test.N)
		if e.orders > 0 {
			res, err := ev.EvaluateOrder(trainer.Order{Kind: "random", K: e.orders}, e.seed)
			if err != nil {
				return err
			}
			e.passed(d.Test.N * e.orders)
			for i, a := range res.PerOrder {
				perOrder[i] += a / float64(len(e.tasks))
			}
		}
	}
	row.TestSequential = seq
	if e.orders > 0 {
		row.TestRandom, row.TestRandomStd = stats.MeanStd(perOrder)
	}
	row.Evaluated = true
	return nil
}

func evaluateWith(e *modelEval, req MergeRequest, src *sources, plans []*planned, out *MergeOutcome) error {
	var names []string
	for _, d := range e.tasks {
		names = append(names, d.Set.Name)
		out.ValImages, out.TestImages = out.ValImages+d.Val.N, out.TestImages+d.Test.N
	}
	out.Data = names[0]
	if len(names) > 1 {
		out.Data = fmt.Sprintf("mean over %d tasks (%s), each with its own head", len(names), strings.Join(names, ", "))
	}
	if e.orders > 0 {
		out.Orders = fmt.Sprintf("random:%d", e.orders)
	}
	models := len(out.Sources) + len(plans)
	tick := trainer.NewCounter(req.Log, fmt.Sprintf("evaluating %d sources and merged models (images)", models), models*e.imagesPerModel())
	done := 0
	e.evaluated = func(images int) { done += images; tick(done) }
	defer func() { e.evaluated = nil }()
	for i, m := range src.pool.Models {
		norm, err := normOf(src.mans[m.Name], m)
		if err != nil {
			return err
		}
		if err := e.measure(m, norm, &out.Sources[i]); err != nil {
			return err
		}
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
	}
	return nil
}
