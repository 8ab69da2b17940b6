package sweep

import (
	"errors"
	"fmt"
	"io"

	"github.com/frankenvit/frankenvit/datamerge"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// Roles of the reference rows of a merge-methods sweep, as FusionBench
// names them.
const (
	RoleIndividual = "individual" // a member on its own task (every member, on a same-task population)
	RoleBest       = "best individual"
	RoleParent     = "parent"     // the population's parent, the merges' base
	RoleMultiTask  = "multi-task" // a model trained on all tasks together
	RolePretrained = "pretrained" // the parent with only the task's head fine-tuned
)

// MethodsGroup is one population the merge-methods sweep merges.
type MethodsGroup struct {
	Name    string
	Variant string
	// Members are merged; on a multi-task population member k's Task is
	// task k. Every member is also measured on its own (the individual row).
	Members []Subject
	// Base is the population's parent, the base of the methods that take
	// task vectors; nil when there is none (such methods are then refused).
	Base *Subject
	// References are measured as they are, one row per Role: RoleMultiTask
	// on every task, RolePretrained on its Task only.
	References []Subject
}

// methodsUnit is a group's references (config nil) or one merge configuration.
type methodsUnit struct {
	group  int
	config *MethodConfig
}

// RunMethods measures, for every group, its references and then every
// configuration of opt.Methods: each merged model (over opt.Seeds seeds
// for the random methods) on every task of the group, in sequential order
// and in opt.Orders random orders. Nothing is stored.
func RunMethods(groups []MethodsGroup, opt Options, shard *Shard, log io.Writer) (*Document, error) {
	configs, err := MethodConfigs(opt.Methods)
	if err != nil {
		return nil, err
	}
	if opt.Orders < 0 || opt.Orders > trainer.MaxRandomOrders || opt.Seeds < 1 || opt.Seeds > MaxDraws {
		return nil, fmt.Errorf("merge-methods sweep needs --orders from 0 to %d and --seeds from 1 to %d, got %d and %d",
			trainer.MaxRandomOrders, MaxDraws, opt.Orders, opt.Seeds)
	}
	if len(groups) == 0 {
		return nil, errors.New("no populations to merge")
	}
	var problems []error
	for _, g := range groups {
		for _, c := range configs {
			if err := checkGroupConfig(g, c); err != nil {
				problems = append(problems, err)
			}
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	var units []methodsUnit
	for gi := range groups {
		units = append(units, methodsUnit{group: gi})
		for ci := range configs {
			units = append(units, methodsUnit{group: gi, config: &configs[ci]})
		}
	}
	doc := &Document{Sweep: MergeMethods, Options: opt, Shard: shard, Units: len(units), Samples: []Sample{}}
	mine := 0
	for u := range units {
		if shard == nil || shard.Has(u) {
			mine++
		}
	}
	tick := trainer.NewCounter(log, "merge-methods sweep (units of work)", mine)
	load := loadCache{}.load
	done := 0
	for u, un := range units {
		if shard != nil && !shard.Has(u) {
			continue
		}
		g := groups[un.group]
		var samples []Sample
		if un.config == nil {
			samples, err = runReferences(g, opt, load, log)
		} else {
			samples, err = runMethodConfig(g, *un.config, opt, load, log)
		}
		var mf *mergeFailure
		if errors.As(err, &mf) {
			// The method cannot merge these models (found only with the
			// weights): the sweep goes on without it and says so.
			msg := fmt.Sprintf("%s, %s: %v", g.Name, un.config.Label(), mf.err)
			fmt.Fprintf(logOrDiscard(log), "merge-methods sweep: skipped %s\n", msg)
			doc.Failed = append(doc.Failed, msg)
			err, samples = nil, nil
		}
		if err != nil {
			what := "references"
			if un.config != nil {
				what = un.config.Label()
			}
			return nil, fmt.Errorf("merge-methods sweep, %s, %s: %w", g.Name, what, err)
		}
		for i := range samples {
			samples[i].Unit, samples[i].Index = u, i
			samples[i].Group, samples[i].Variant = g.Name, g.Variant
		}
		doc.Samples = append(doc.Samples, samples...)
		done++
		tick(done)
	}
	doc.Sort()
	return doc, nil
}

// loadFunc loads a subject with the data of a task ("": its own).
type loadFunc func(s Subject, task string) (*Loaded, error)

// loadCache keeps every subject loaded once per task.
type loadCache map[[2]string]*Loaded

func (c loadCache) load(s Subject, task string) (*Loaded, error) {
	if task == s.Task {
		task = ""
	}
	k := [2]string{s.Name, task}
	if ld, ok := c[k]; ok {
		return ld, nil
	}
	var ld *Loaded
	var err error
	switch {
	case task == "":
		ld, err = s.Load()
	case s.LoadTask == nil:
		err = fmt.Errorf("model %s cannot be measured on task %s", s.Name, task)
	default:
		ld, err = s.LoadTask(task)
	}
	if err != nil {
		return nil, err
	}
	c[k] = ld
	return ld, nil
}

// checkGroupConfig refuses what cannot run before any weight is read: a
// method needing a base with no parent, too few or too many members.
func checkGroupConfig(g MethodsGroup, c MethodConfig) error {
	n, hasBase := len(g.Members), g.Base != nil
	if _, learned := datamerge.Reads(c.Method); learned {
		switch {
		case n < 2:
			return fmt.Errorf("%s: %s merges at least 2 members, the population has %d", g.Name, c.Method, n)
		case datamerge.NeedsBase(c.Method) && !hasBase:
			return fmt.Errorf("%s: %s needs a base: the population has no parent", g.Name, c.Method)
		}
		return nil
	}
	if PairMethod(c.Method) {
		if n < 2 {
			return fmt.Errorf("%s: %s merges two members, the population has %d", g.Name, c.Method, n)
		}
		return nil
	}
	per, global := methodParams(c, n)
	if err := merge.CheckWeightMergeParams(c.Method, n, hasBase, per, global); err != nil {
		return fmt.Errorf("%s: %s: %w", g.Name, c.Label(), err)
	}
	return nil
}

// methodParams are the parameters the sweep gives a configuration: weight 1
// for every model when the method takes weights (the plain sum of task
// vectors, or the plain average when the method normalises), and the grid
// value.
func methodParams(c MethodConfig, n int) (per []methods.Params, global methods.Params) {
	m, _ := methods.Lookup(c.Method)
	global = methods.Params{}
	if _, ok := m.Spec().Param("weight"); ok {
		global["weight"] = 1
	}
	if c.Param != "" {
		global[c.Param] = c.Value
	}
	return nil, global
}

// mergeConfig builds the merged model of one configuration and seed.
func mergeConfig(g MethodsGroup, c MethodConfig, seed uint64, load loadFunc) (*vit.Model, error) {
	members := make([]*vit.Model, len(g.Members))
	for i, s := range g.Members {
		ld, err := load(s, "")
		if err != nil {
			return nil, err
		}
		members[i] = ld.Model
	}
	var base *vit.Model
	if g.Base != nil {
		ld, err := load(*g.Base, "")
		if err != nil {
			return nil, err
		}
		base = ld.Model
	}
	tasks := make([]string, len(members))
	for i, s := range g.Members {
		tasks[i] = s.Task
	}
	if _, learned := datamerge.Reads(c.Method); learned {
		return learnedMerge(g, c, base, seed, load)
	}
	per, global := methodParams(c, len(members))
	switch c.Method {
	case "slerp", "nearswap": // from the first member towards the second
		base, members, tasks = members[0], members[1:2], tasks[1:2]
	case "nuslerp":
		members, tasks = members[:2], tasks[:2]
	}
	res, err := merge.WeightMergeTasks(c.Label(), c.Method, base, members, tasks, per, global, seed)
	if err != nil {
		return nil, &mergeFailure{err}
	}
	return res.Model, nil
}

// learnedMergeEvaluations is the budget of an evolved merge in the sweep.
const learnedMergeEvaluations = 60

// learnedMerge runs a data-driven merge of the group's members, each member
// reading its own data's split the method may use (datamerge.Reads; the
// test split is the sweep's measured one, read without labels).
func learnedMerge(g MethodsGroup, c MethodConfig, base *vit.Model, seed uint64, load loadFunc) (*vit.Model, error) {
	use, _ := datamerge.Reads(c.Method)
	sources := make([]datamerge.Source, len(g.Members))
	for i, s := range g.Members {
		ld, err := load(s, "")
		if err != nil {
			return nil, err
		}
		split := map[string]*dataset.Split{"train": ld.Train, "val": ld.Val, "test": ld.Test}[use.Split]
		if split == nil {
			return nil, fmt.Errorf("model %s has no %s split loaded", s.Name, use.Split)
		}
		if use.Images > 0 && use.Images < split.N {
			split = split.Limit(use.Images)
		}
		if !use.Labels {
			c := *split
			c.Labels = nil
			split = &c
		}
		sources[i] = datamerge.Source{Model: ld.Model, Data: split, Norm: ld.Norm, Task: s.Task}
	}
	name := c.Label()
	var m *vit.Model
	var err error
	switch c.Method {
	case "fisher":
		m, err = datamerge.Fisher(name, sources, datamerge.FisherOptions{})
	case "regmean":
		m, err = datamerge.RegMean(name, sources, datamerge.RegMeanOptions{})
	case "adamerging", "adamerging-blocks":
		opt := datamerge.AdaOptions{BlockWise: c.Method == "adamerging-blocks", Seed: seed}
		if c.Param == "lr" {
			opt.LR = c.Value
		}
		m, _, err = datamerge.AdaMerging(name, base, sources, opt)
	default: // evolve: CMA-ES-tuned TIES
		m, _, err = datamerge.Evolve(name, "ties", base, sources, datamerge.EvolveOptions{Evaluations: learnedMergeEvaluations, Seed: seed})
	}
	if err != nil {
		return nil, &mergeFailure{err}
	}
	return m, nil
}

// mergeFailure is a merge its method refused on these weights.
type mergeFailure struct{ err error }

func (f *mergeFailure) Error() string { return f.err.Error() }
func (f *mergeFailure) Unwrap() error { return f.err }

func logOrDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

func runMethodConfig(g MethodsGroup, c MethodConfig, opt Options, load loadFunc, log io.Writer) ([]Sample, error) {
	seeds := 1
	if c.Seeded() {
		seeds = opt.Seeds
	}
	var out []Sample
	for s := 0; s < seeds; s++ {
		seed := opt.Seed + uint64(s)
		m, err := mergeConfig(g, c, seed, load)
		if err != nil {
			return nil, err
		}
		for _, task := range tasksOf(g) {
			samples, err := measureOnTask(m, task, g.Members[0], opt, load, log)
			if err != nil {
				return nil, err
			}
			for i := range samples {
				samples[i].Method, samples[i].Param, samples[i].Value = c.Method, c.Param, c.Value
				samples[i].MergeSeed = seed
			}
			out = append(out, samples...)
		}
	}
	return out, nil
}

// tasksOf lists the tasks a group's merges are measured on: its members'
// own tasks on a multi-task population, else the one task.
func tasksOf(g MethodsGroup) []string {
	var tasks []string
	for _, m := range g.Members {
		if m.Task != "" && !contains(tasks, m.Task) {
			tasks = append(tasks, m.Task)
		}
	}
	if len(tasks) == 0 {
		return []string{""}
	}
	return tasks
}

func runReferences(g MethodsGroup, opt Options, load loadFunc, log io.Writer) ([]Sample, error) {
	var out []Sample
	measure := func(s Subject, role string, tasks []string) error {
		ld, err := load(s, "")
		if err != nil {
			return err
		}
		for _, task := range tasks {
			samples, err := measureOnTask(ld.Model, task, s, opt, load, log)
			if err != nil {
				return err
			}
			for i := range samples {
				samples[i].Method, samples[i].Model = role, s.Name
			}
			out = append(out, samples...)
		}
		return nil
	}
	all := tasksOf(g)
	for _, m := range g.Members {
		if err := measure(m, RoleIndividual, []string{m.Task}); err != nil {
			return nil, err
		}
	}
	if g.Base != nil {
		if err := measure(*g.Base, RoleParent, all); err != nil {
			return nil, err
		}
	}
	for _, r := range g.References {
		tasks := all
		if r.Role == RolePretrained {
			tasks = []string{r.Task}
		}
		if err := measure(r, r.Role, tasks); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// measureOnTask measures model on one task's split, seen through the data
// of subject s (its split of that task: the merged model is measured where
// its members are), in sequential order and opt.Orders random orders.
func measureOnTask(m *vit.Model, task string, s Subject, opt Options, load loadFunc, log io.Writer) ([]Sample, error) {
	ld, err := load(s, task)
	if err != nil {
		return nil, err
	}
	n := len(m.Blocks)
	idx := [][]int{trainer.Order{Kind: "sequential"}.Plans(n, 0)[0]}
	kinds, seeds := []string{"sequential"}, []uint64{0}
	if opt.Orders > 0 {
		for j, p := range (trainer.Order{Kind: "random", K: opt.Orders}).Plans(n, opt.Seed) {
			idx, kinds, seeds = append(idx, p), append(kinds, "random"), append(seeds, uint64(j))
		}
	}
	plans := make([]vit.Plan, len(idx))
	for i, ix := range idx {
		if plans[i], err = m.PlanOf(ix); err != nil {
			return nil, err
		}
	}
	ev := trainer.NewEvaluator(m, ld.Test, ld.Norm)
	what := m.Name
	if task != "" {
		what += " on " + task
	}
	ev.OnProgress = batchCounter(log, fmt.Sprintf("%s: sequential and random:%d", what, opt.Orders))
	acc, loss := ev.AccuracyOfPlans(plans)
	out := make([]Sample, len(plans))
	for i := range plans {
		out[i] = Sample{Model: m.Name, Task: task, Kind: kinds[i], Seed: seeds[i], Plan: idx[i], Acc: acc[i], Loss: loss[i]}
	}
	return out, nil
}
