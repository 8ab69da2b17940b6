package sweep

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/prune"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// Subject is one model to measure. It is loaded only when a unit of the
// shard being run needs it.
type Subject struct {
	Group   string // the name given: the model, or its population's prefix
	Name    string
	Variant string
	Depth   int // blocks in its plan
	Load    func() (*Loaded, error)
	// Role and Task are used by the merge-methods sweep: a reference row's
	// role, and the task the model was trained on ("" on a same-task
	// population). LoadTask loads the model with another task's data (its
	// head for that task); nil for a single-task model.
	Role     string
	Task     string
	LoadTask func(task string) (*Loaded, error)
}

// Loaded is a subject ready to evaluate.
type Loaded struct {
	Model *vit.Model
	Test  *dataset.Split // accuracy is measured here
	Val   *dataset.Split // data-driven pruning measures here
	Train *dataset.Split // data-driven merges (Fisher, RegMean) read here
	Norm  dataset.Normalization
}

// unit is one model and one task, or, in a merge sweep, one population and
// a number of sources.
type unit struct {
	subject int
	task    string // orders: fixed, per-batch, per-sample; depth: a strategy or "reference"
	members []int  // merge: every subject of the group
	sources int    // merge: sources mixed
}

// Stream constants keep the random draws of different tasks apart.
const (
	streamPerBatch  = 0xba7c << 16
	streamPerSample = 0x5a3e << 16
	streamRemoval   = 0x7e30 << 16
)

// Run measures the units of a sweep of kind Orders or Depth that belong to
// shard (nil: all of them) and returns their samples, in unit order, with
// the summary per group. references are the depth sweep's models trained at
// reduced depth, shown beside the curves.
func Run(kind string, subjects, references []Subject, opt Options, shard *Shard, log io.Writer) (*Document, error) {
	units, err := planUnits(kind, subjects, references, opt)
	if err != nil {
		return nil, err
	}
	all := append(append([]Subject(nil), subjects...), references...)
	maxDepth := 0
	for _, s := range subjects {
		maxDepth = max(maxDepth, s.Depth)
	}
	doc := &Document{Sweep: kind, Options: opt, Shard: shard, Units: len(units), Samples: []Sample{}}
	mine := 0
	for u := range units {
		if shard == nil || shard.Has(u) {
			mine++
		}
	}
	tick := trainer.NewCounter(log, kind+" sweep (units of work)", mine)
	loaded := map[int]*Loaded{}
	pruners := map[int]*prune.Pruner{}
	done := 0
	for u, un := range units {
		if shard != nil && !shard.Has(u) {
			continue
		}
		sub := all[un.subject]
		load := func(i int) (*Loaded, error) {
			if ld, ok := loaded[i]; ok {
				return ld, nil
			}
			ld, err := all[i].Load()
			loaded[i] = ld
			return ld, err
		}
		ld, err := load(un.subject)
		if err != nil {
			return nil, err
		}
		var samples []Sample
		switch {
		case kind == Merge:
			var pool []*Loaded
			for _, i := range un.members {
				ld, err := load(i)
				if err != nil {
					return nil, err
				}
				pool = append(pool, ld)
			}
			samples, err = runMerge(pool, un.sources, opt, log)
		case kind == Orders:
			samples, err = runOrders(un.task, ld, opt, log)
		case un.task == "reference":
			samples, err = runReference(ld, maxDepth, log)
		default:
			p := pruners[un.subject]
			if p == nil {
				p = prune.NewPruner(ld.Model, nil)
				p.Log = log
				pruners[un.subject] = p
			}
			samples, err = runDepth(prune.Strategy(un.task), p, ld, opt, log)
		}
		if err != nil {
			if kind == Merge {
				return nil, fmt.Errorf("merge sweep, %s, %d sources: %w", sub.Group, un.sources, err)
			}
			return nil, fmt.Errorf("%s sweep, model %s, %s: %w", kind, sub.Name, un.task, err)
		}
		for i := range samples {
			samples[i].Unit, samples[i].Index = u, i
			samples[i].Group, samples[i].Variant = sub.Group, sub.Variant
			if samples[i].Model == "" {
				samples[i].Model = sub.Name
			}
		}
		doc.Samples = append(doc.Samples, samples...)
		done++
		tick(done)
	}
	doc.Sort()
	return doc, nil
}

func planUnits(kind string, subjects, references []Subject, opt Options) ([]unit, error) {
	if len(subjects) == 0 {
		return nil, errors.New("no models to sweep")
	}
	var units []unit
	switch kind {
	case Orders:
		if trainer.CheckOrderCount(opt.Orders) != nil || opt.Repeats < 0 || opt.Repeats > MaxDraws || opt.OrderBatch < 1 {
			return nil, fmt.Errorf("orders sweep needs --orders from 1 to %d, --repeats from 0 to %d and --order-batch >= 1, got %d, %d, %d",
				trainer.MaxRandomOrders, MaxDraws, opt.Orders, opt.Repeats, opt.OrderBatch)
		}
		if len(references) > 0 {
			return nil, errors.New("references belong to the depth sweep")
		}
		for i := range subjects {
			units = append(units, unit{subject: i, task: "fixed"})
			if opt.Repeats > 0 {
				units = append(units, unit{subject: i, task: "per-batch"}, unit{subject: i, task: "per-sample"})
			}
		}
	case Depth:
		if len(opt.Strategies) == 0 || opt.Seeds < 1 || opt.Seeds > MaxDraws {
			return nil, fmt.Errorf("depth sweep needs strategies and --seeds from 1 to %d, got %v and %d", MaxDraws, opt.Strategies, opt.Seeds)
		}
		for i := range subjects {
			for _, s := range opt.Strategies {
				if _, err := prune.ParseStrategy(s); err != nil {
					return nil, err
				}
				units = append(units, unit{subject: i, task: s})
			}
		}
		for i := range references {
			units = append(units, unit{subject: len(subjects) + i, task: "reference"})
		}
	case Merge:
		if opt.Draws < 1 || opt.Draws > MaxDraws {
			return nil, fmt.Errorf("merge sweep needs --draws from 1 to %d, got %d", MaxDraws, opt.Draws)
		}
		var groups []string
		members := map[string][]int{}
		for i, s := range subjects {
			if _, ok := members[s.Group]; !ok {
				groups = append(groups, s.Group)
			}
			members[s.Group] = append(members[s.Group], i)
		}
		for _, g := range groups {
			for n := 1; n <= len(members[g]); n++ {
				units = append(units, unit{subject: members[g][0], task: "merge", members: members[g], sources: n})
			}
		}
	default:
		return nil, fmt.Errorf("unknown sweep %q: want orders, depth or merge", kind)
	}
	return units, nil
}

func batchCounter(log io.Writer, what string) func(done, total int) {
	var tick func(int)
	return func(done, total int) {
		if tick == nil {
			tick = trainer.NewCounter(log, what+" (batches)", total)
		}
		tick(done)
	}
}

// runOrders measures one orders task of a model.
func runOrders(task string, ld *Loaded, opt Options, log io.Writer) ([]Sample, error) {
	m := ld.Model
	n := len(m.Blocks)
	var out []Sample
	switch task {
	case "fixed":
		idx := [][]int{trainer.Order{Kind: "sequential"}.Plans(n, 0)[0], trainer.Order{Kind: "reversed"}.Plans(n, 0)[0]}
		kinds := []string{"sequential", "reversed"}
		seeds := []uint64{0, 0}
		for j, p := range (trainer.Order{Kind: "random", K: opt.Orders}).Plans(n, opt.Seed) {
			idx, kinds, seeds = append(idx, p), append(kinds, "random"), append(seeds, uint64(j))
		}
		plans := make([]vit.Plan, len(idx))
		for i, ix := range idx {
			plans[i], _ = m.PlanOf(ix)
		}
		ev := trainer.NewEvaluator(m, ld.Test, ld.Norm)
		ev.OnProgress = batchCounter(log, fmt.Sprintf("%s: sequential, reversed and random:%d", m.Name, opt.Orders))
		acc, loss := ev.AccuracyOfPlans(plans)
		for i := range plans {
			out = append(out, Sample{Kind: kinds[i], Seed: seeds[i], Plan: idx[i], Acc: acc[i], Loss: loss[i]})
		}
	case "per-batch", "per-sample":
		group, stream := opt.OrderBatch, uint64(streamPerBatch)
		if task == "per-sample" {
			group, stream = 1, streamPerSample
		}
		for r := 0; r < opt.Repeats; r++ {
			rng := rand.New(rand.NewPCG(opt.Seed, stream+uint64(r)))
			orders := OrdersPerGroup(ld.Test.N, n, group, rng)
			acc, loss, err := MixedOrderAccuracy(m, ld.Test, ld.Norm, orders,
				batchCounter(log, fmt.Sprintf("%s: %s orders, repeat %d/%d", m.Name, task, r+1, opt.Repeats)))
			if err != nil {
				return nil, err
			}
			out = append(out, Sample{Kind: task, Seed: uint64(r), Acc: acc, Loss: loss})
		}
	}
	return out, nil
}

// RemovalSeed is the seed of the j-th random removal of k blocks.
func RemovalSeed(seed uint64, k, j int) uint64 {
	return rand.New(rand.NewPCG(seed, streamRemoval+uint64(k)<<8+uint64(j))).Uint64()
}

// runDepth measures a strategy's pruned plans for 0..n-1 removed blocks.
func runDepth(s prune.Strategy, p *prune.Pruner, ld *Loaded, opt Options, log io.Writer) ([]Sample, error) {
	m := ld.Model
	n := len(m.Blocks)
	if s.NeedsData() && p.Val == nil {
		val := ld.Val
		if opt.ValLimit > 0 {
			val = val.Limit(opt.ValLimit)
		}
		if val.N == 0 {
			return nil, fmt.Errorf("model %s has no validation images for %s pruning (trained with --val-frac 0)", m.Name, s)
		}
		p.Val = trainer.NewEvaluator(m, val, ld.Norm)
	}
	var out []Sample
	var plans []vit.Plan
	for k := 0; k < n; k++ {
		draws := 1
		if s.Seeded() && k > 0 {
			draws = opt.Seeds
		}
		for j := 0; j < draws; j++ {
			var seed uint64
			if s.Seeded() {
				seed = RemovalSeed(opt.Seed, k, j)
			}
			r, err := p.Remove(s, k, seed)
			if err != nil {
				return nil, err
			}
			plans = append(plans, p.Plan(r))
			out = append(out, Sample{Kind: string(s), Removed: k, Seed: seed, Plan: slices.Clone(r.Kept)})
		}
	}
	ev := trainer.NewEvaluator(m, ld.Test, ld.Norm)
	ev.OnProgress = batchCounter(log, fmt.Sprintf("%s: %d plans pruned by %s", m.Name, len(plans), s))
	acc, loss := ev.AccuracyOfPlans(plans)
	for i := range out {
		out[i].Acc, out[i].Loss = acc[i], loss[i]
	}
	return out, nil
}

// runReference runs a model trained at reduced depth as it is, placed at
// the number of blocks it lacks against the deepest swept model.
func runReference(ld *Loaded, maxDepth int, log io.Writer) ([]Sample, error) {
	m := ld.Model
	ev := trainer.NewEvaluator(m, ld.Test, ld.Norm)
	ev.OnProgress = batchCounter(log, m.Name+": sequential")
	acc, loss := ev.Accuracy(m.Sequential())
	plan := make([]int, len(m.Blocks))
	for i := range plan {
		plan[i] = i
	}
	return []Sample{{Kind: "reference", Removed: max(maxDepth-len(m.Blocks), 0), Plan: plan, Acc: acc, Loss: loss}}, nil
}
