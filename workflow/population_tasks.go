package workflow

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/trainer"
)

// A multi-task population (PopulationRequest.Tasks): the parent
// PREFIX-parent is trained on every task's training images pooled, with one
// head per task (vit.Config.Tasks); child PREFIX-k is the parent fine-tuned
// on task k alone (its manifest's data is task k; it keeps every head).
// Beside them, the references FusionBench reports: PREFIX-mt, the parent
// fine-tuned further on the pooled tasks for the children's epochs (the
// jointly trained multi-task model), and PREFIX-probe-k, the parent with
// only task k's head trained on task k (trainer.Options.TrainOnly "head";
// FusionBench's "pretrained" row).

// Roles of a multi-task population's references in its summary.
const (
	RoleMultiTask = "multi-task"
	RoleProbe     = "probe"
)

// MultiTaskName is the name of a multi-task population's jointly trained reference.
func MultiTaskName(prefix string) string { return prefix + "-mt" }

// ProbeName is the name of the parent with only task k's head fine-tuned on task k.
func ProbeName(prefix string, k int) string { return fmt.Sprintf("%s-probe-%d", prefix, k) }

// Seeds of the references, apart from the members' (memberSeed).
func multiTaskSeed(seed uint64) uint64    { return seed + 2000 }
func probeSeed(seed uint64, k int) uint64 { return seed + 3000 + uint64(k) }

// TaskSummary is one row of a multi-task population's per-task table: a
// model measured on one task with that task's head (whole test split).
type TaskSummary struct {
	Task           string  `json:"task"`
	Model          string  `json:"model"`
	Role           string  `json:"role"`
	TestSequential float64 `json:"test_accuracy"`
	TestRandom     float64 `json:"test_accuracy_random"`
	TestRandomStd  float64 `json:"test_accuracy_random_std"`
}

func (r PopulationRequest) validateTasks() error {
	var errs []error
	if err := dataset.CheckTasks(r.Tasks); err != nil {
		errs = append(errs, err)
	}
	T := len(r.Tasks)
	if r.Size != 0 && r.Size != T {
		errs = append(errs, fmt.Errorf("--size %d does not match the %d tasks of --tasks (a multi-task population has one child per task)", r.Size, T))
	}
	if r.Independent {
		errs = append(errs, errors.New("--independent does not apply to a multi-task population: its children start from the parent"))
	}
	if r.Parent != "" {
		errs = append(errs, errors.New("--parent does not apply to a multi-task population: it trains its parent on the pooled tasks"))
	}
	if r.Member >= T {
		errs = append(errs, fmt.Errorf("--member %d is outside the %d tasks", r.Member, T))
	}
	if r.ParentEpochs <= 0 {
		errs = append(errs, fmt.Errorf("--parent-epochs must be positive, got %d", r.ParentEpochs))
	}
	if err := trainer.CheckOrderCount(r.RandomOrders); err != nil {
		errs = append(errs, fmt.Errorf("--orders: %v", err))
	}
	if r.Base.Options.TrainOnly != "" {
		errs = append(errs, errors.New("--train-only does not apply to a population (its probes train only their head)"))
	}
	if err := checkpoint.ValidName(ProbeName(r.Prefix, max(T-1, 0))); err != nil {
		errs = append(errs, fmt.Errorf("prefix %q: %v", r.Prefix, err))
	}
	return errors.Join(errs...)
}

// PopulationTasks trains a multi-task population: the parent on the pooled
// tasks, one child per task, the multi-task reference and one probe per
// task, and measures each on its tasks. Complete models are kept (they must
// have been trained with the same settings) and unfinished ones resumed, so
// a rerun trains only what is missing. With Member I only the parent, child
// I and probe I are trained (the multi-task reference by a run without
// Member).
func PopulationTasks(s *checkpoint.Store, req PopulationRequest) (*PopulationSummary, error) {
	if err := req.validateTasks(); err != nil {
		return nil, err
	}
	tasks, seed, epochs := req.Tasks, req.Base.Options.Seed, req.Base.Options.Epochs
	entry := func(name string, seed uint64, epochs int, init string, data modelstore.DataOptions) TrainRequest {
		tr := req.Base
		tr.Name, tr.Init, tr.Data = name, init, data
		tr.Config.Tasks = tasks
		tr.Options.Seed, tr.Options.Epochs = seed, epochs
		return tr
	}
	pooled := modelstore.PooledData(req.Base.Data, tasks)
	parent := ParentName(req.Prefix)
	if _, err := ensureTrainedAs(s, req, entry(parent, seed, req.ParentEpochs, "", pooled)); err != nil {
		return nil, err
	}
	members := []int{req.Member}
	if req.Member < 0 {
		members = members[:0]
		for k := range tasks {
			members = append(members, k)
		}
	}
	for _, k := range members {
		data := modelstore.TaskData(req.Base.Data, tasks, k)
		if _, err := ensureTrainedAs(s, req, entry(MemberName(req.Prefix, k), memberSeed(seed, k), epochs, parent, data)); err != nil {
			return nil, err
		}
		probe := entry(ProbeName(req.Prefix, k), probeSeed(seed, k), epochs, parent, data)
		probe.Options.TrainOnly = trainer.TrainOnlyHead
		if _, err := ensureTrainedAs(s, req, probe); err != nil {
			return nil, err
		}
	}
	if req.Member < 0 {
		if _, err := ensureTrainedAs(s, req, entry(MultiTaskName(req.Prefix), multiTaskSeed(seed), epochs, parent, pooled)); err != nil {
			return nil, err
		}
	}
	return summariseTasks(s, req, members)
}

// taskMetricKeys are the manifest metrics of a model measured on one task.
func taskMetricKeys(task string) (seq, random, std string) {
	return "test_accuracy@" + task, "test_accuracy_random@" + task, "test_accuracy_random_std@" + task
}

// ensureTaskMetrics measures a complete model on one task (its head, the
// task's whole test split, sequential and random:K) once, keeping the
// numbers in its manifest.
func ensureTaskMetrics(s *checkpoint.Store, req PopulationRequest, name, task string) (*checkpoint.Manifest, error) {
	kSeq, kRand, kStd := taskMetricKeys(task)
	man, err := s.Get(name)
	if err != nil {
		return nil, err
	}
	if _, ok := man.Metrics[kRand]; ok {
		return man, nil
	}
	seq, err := Eval(s, EvalRequest{Name: name, Split: "test", Order: "sequential", Task: task, Log: req.Log})
	if err != nil {
		return nil, err
	}
	rnd, err := Eval(s, EvalRequest{Name: name, Split: "test", Order: fmt.Sprintf("random:%d", req.RandomOrders),
		Seed: req.Base.Options.Seed, Task: task, Log: req.Log})
	if err != nil {
		return nil, err
	}
	unlock, err := s.LockName(name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if man, err = s.Get(name); err != nil { // another process may have added metrics meanwhile
		return nil, err
	}
	if man.Metrics == nil {
		man.Metrics = map[string]float64{}
	}
	man.Metrics[kSeq], man.Metrics[kRand], man.Metrics[kStd] = seq.Accuracy, rnd.Accuracy, rnd.AccuracyStd
	return man, s.Replace(man)
}

// summariseTasks measures every model of the population that exists on its
// tasks (the members' tasks only, with Member) and keeps the summary.
func summariseTasks(s *checkpoint.Store, req PopulationRequest, members []int) (*PopulationSummary, error) {
	tasks := req.Tasks
	sum := &PopulationSummary{Prefix: req.Prefix, Parent: ParentName(req.Prefix), Variant: string(req.Base.Config.Variant),
		Data: dataset.PoolSpec(tasks), Orders: fmt.Sprintf("random:%d", req.RandomOrders), Tasks: tasks, Updated: time.Now().UTC()}
	type model struct {
		name, role string
		task       int // -1: every task
	}
	models := []model{{ParentName(req.Prefix), "parent", -1}}
	for k := range tasks {
		models = append(models, model{MemberName(req.Prefix, k), "member", k})
	}
	models = append(models, model{MultiTaskName(req.Prefix), RoleMultiTask, -1})
	for k := range tasks {
		models = append(models, model{ProbeName(req.Prefix, k), RoleProbe, k})
	}
	measured := map[int]bool{}
	for _, k := range members {
		measured[k] = true
	}
	for _, m := range models {
		man, err := s.Get(m.name)
		if errors.Is(err, checkpoint.ErrNotFound) {
			continue // not trained yet (another process's member)
		}
		if err != nil {
			return nil, err
		}
		row := MemberSummary{Name: m.name, Role: m.role, Seed: man.Seed, Status: man.Status, ValAccuracy: man.Metrics["val_accuracy"]}
		if m.task >= 0 {
			row.Task = tasks[m.task]
		}
		var n int
		for k, task := range tasks {
			if (m.task >= 0 && m.task != k) || man.Status != "complete" {
				continue
			}
			kSeq, kRand, kStd := taskMetricKeys(task)
			if _, ok := man.Metrics[kRand]; !ok && !measured[k] {
				continue // another process's task
			}
			if man, err = ensureTaskMetrics(s, req, m.name, task); err != nil {
				return nil, fmt.Errorf("%s on task %s: %w", m.name, task, err)
			}
			r := TaskSummary{Task: task, Model: m.name, Role: m.role, TestSequential: man.Metrics[kSeq],
				TestRandom: man.Metrics[kRand], TestRandomStd: man.Metrics[kStd]}
			sum.PerTask = append(sum.PerTask, r)
			row.TestSequential += r.TestSequential
			row.TestRandom += r.TestRandom
			row.TestRandomStd += r.TestRandomStd
			n++
		}
		if n > 0 { // the average over the tasks measured
			row.TestSequential /= float64(n)
			row.TestRandom /= float64(n)
			row.TestRandomStd /= float64(n)
		}
		sum.Members = append(sum.Members, row)
	}
	sortTaskRows(sum.PerTask, tasks)
	unlock, err := s.LockName(req.Prefix + ".summary")
	if err != nil {
		return nil, err
	}
	defer unlock()
	return sum, s.PutRecord("populations", req.Prefix, sum)
}

// sortTaskRows orders the per-task rows by task, then as FusionBench lists
// its rows: the probe (pretrained), the child (individual), the multi-task
// model, the parent.
func sortTaskRows(rows []TaskSummary, tasks []string) {
	rank := map[string]int{RoleProbe: 0, "member": 1, RoleMultiTask: 2, "parent": 3}
	index := map[string]int{}
	for k, t := range tasks {
		index[t] = k
	}
	slices.SortStableFunc(rows, func(a, b TaskSummary) int {
		if c := cmp.Compare(index[a.Task], index[b.Task]); c != 0 {
			return c
		}
		return cmp.Compare(rank[a.Role], rank[b.Role])
	})
}

// TaskAverages is the mean test accuracy over the tasks per role, the
// average row of FusionBench's tables (roles with a row on every task only).
func TaskAverages(sum *PopulationSummary) []TaskSummary {
	var out []TaskSummary
	for _, role := range []string{RoleProbe, "member", RoleMultiTask, "parent"} {
		var r TaskSummary
		n := 0
		for _, row := range sum.PerTask {
			if row.Role == role {
				r.TestSequential += row.TestSequential
				r.TestRandom += row.TestRandom
				r.TestRandomStd += row.TestRandomStd
				n++
			}
		}
		if n == 0 || n != len(sum.Tasks) {
			continue
		}
		f := float64(n)
		r.Task, r.Role = "average", role
		r.TestSequential, r.TestRandom, r.TestRandomStd = r.TestSequential/f, r.TestRandom/f, r.TestRandomStd/f
		out = append(out, r)
	}
	return out
}
