package study

import (
	"fmt"
	"os"
	"strings"

	"github.com/frankenvit/frankenvit/analysis"
	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/prune"
	"github.com/frankenvit/frankenvit/sweep"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
	"github.com/frankenvit/frankenvit/workflow"
)

// Defaults of a study's sweeps.
const (
	DefaultOrders = 20
	// merge-methods sweeps: random orders per merged model, seeds of the
	// random methods (as `bench merge-methods`).
	DefaultMethodOrders = 5
	DefaultMethodSeeds  = 3
	DefaultRepeats      = 3
	DefaultOrderBatch   = 64
	DefaultSeeds        = 5
	DefaultDraws        = 10
	DefaultParent       = 5
)

// Plan is a checked study: the requests it will run, in order.
type Plan struct {
	Name        string
	Source      string // the file's name, or "built-in quickstart"
	Text        []byte
	Populations []workflow.PopulationRequest
	Merges      []workflow.MergeRequest
	Sweeps      []SweepJob
	Analyses    []AnalysisJob
}

// SweepJob is one sweep with the file names of its results.
type SweepJob struct {
	ID  string // e.g. "2-depth": its position and kind, the stem of its files
	Req workflow.SweepRequest
}

// AnalysisJob is the analysis of one model; its results go to
// analysis-MODEL/ in the output folder.
type AnalysisJob struct {
	Entry int    // the analysis's position in the file, from 1
	As    string // the name the file gave: the model, or its population or merge
	Req   workflow.AnalyzeRequest
}

// problems collects everything wrong with a study.
type problems []string

func (p *problems) add(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

// Check validates the whole study against the store and the data sets (each
// data set named is loaded once) and resolves it into a Plan. Every problem
// is named in the one error returned; nothing is trained or written.
func Check(f *File, source string, text []byte, s *checkpoint.Store) (*Plan, error) {
	var bad problems
	plan := &Plan{Name: f.Name, Source: source, Text: text}
	if f.Name == "" {
		bad.add("the study has no name")
	} else if err := checkpoint.ValidName(f.Name); err != nil {
		bad.add("name: %v", strings.TrimPrefix(err.Error(), "store: "))
	}
	if f.Limit < 0 {
		bad.add("limit must be >= 0, got %d", f.Limit)
	}
	valFrac := 0.1
	if f.ValFrac != nil {
		valFrac = *f.ValFrac
		if valFrac < 0 || valFrac >= 1 {
			bad.add("val_frac must be in [0, 1), got %g", valFrac)
		}
	}
	orders := f.Orders
	if orders == 0 {
		orders = DefaultOrders
	}
	if err := trainer.CheckOrderCount(orders); err != nil {
		bad.add("orders: %v", err)
	}
	if len(f.Populations) == 0 && len(f.Sweeps) == 0 && len(f.Analyses) == 0 {
		bad.add("the study defines no populations, no sweeps and no analyses")
	}
	// What the study will define: population prefixes, model names.
	defined := map[string]string{} // name -> what defines it
	firstOf := map[string]string{} // population or merge of several models -> its first model
	datasets := map[string]*dataset.Dataset{}
	loadData := func(spec string) (*dataset.Dataset, error) {
		if d, ok := datasets[spec]; ok {
			return d, nil
		}
		d, err := dataset.Load(spec)
		if err == nil {
			datasets[spec] = d
		}
		return d, err
	}
	for i, p := range f.Populations {
		where := fmt.Sprintf("population %d (%s)", i+1, p.Name)
		if err := checkpoint.ValidName(workflow.MemberName(p.Name, max(p.Size, 1))); err != nil || p.Name == "" {
			bad.add("%s: invalid name %q", where, p.Name)
		}
		if prev, dup := defined[p.Name]; dup {
			bad.add("%s: the name %s is already used by %s", where, p.Name, prev)
		}
		defined[p.Name] = where
		firstOf[p.Name] = workflow.MemberName(p.Name, 0)
		size := p.Size
		if len(p.Tasks) > 0 {
			if err := dataset.CheckTasks(p.Tasks); err != nil {
				bad.add("%s: %v", where, strings.TrimPrefix(err.Error(), "--"))
			}
			if size == 0 {
				size = len(p.Tasks)
			}
			if size != len(p.Tasks) {
				bad.add("%s: size %d does not match its %d tasks (one child per task)", where, size, len(p.Tasks))
			}
			if p.Data != "" || p.Independent {
				bad.add("%s: data and independent do not apply to a multi-task population (the tasks are its data; children start from the parent)", where)
			}
			defined[workflow.MultiTaskName(p.Name)] = where
			for k := range p.Tasks {
				defined[workflow.ProbeName(p.Name, k)] = where
			}
		}
		for j := 0; j < size; j++ {
			defined[workflow.MemberName(p.Name, j)] = where
		}
		if !p.Independent && p.Parent == "" {
			defined[workflow.ParentName(p.Name)] = where
		}
		var image [2]int
		if p.Image != "" {
			var err error
			if image, err = dataset.ParseImageSize(p.Image); err != nil {
				bad.add("%s: image %v", where, err)
			}
		}
		if p.Parent != "" {
			if _, ok := defined[p.Parent]; !ok && !s.Exists(p.Parent) {
				bad.add("%s: parent %s is neither in the store nor defined earlier in the study", where, p.Parent)
			}
			if p.Independent || len(p.Tasks) > 0 {
				bad.add("%s: parent does not apply to an independent or a multi-task population", where)
			}
		}
		for _, t := range []TrainSpec{f.Train, p.Train} {
			if t.Preset != "" && t.Preset != "paper" {
				bad.add("%s: preset %q: want paper", where, t.Preset)
			}
		}
		if size <= 0 || size > workflow.MaxPopulation {
			bad.add("%s: size must be from 1 to %d, got %d", where, workflow.MaxPopulation, p.Size)
		}
		variant, err := vit.ParseVariant(p.Variant)
		if err != nil {
			bad.add("%s: %v", where, err)
		}
		spec := first(p.Data, f.Data, "mnist")
		if len(p.Tasks) > 0 {
			spec = p.Tasks[0] // the shape and class count; the others are checked when the parent trains
		}
		// A full-size folder (image given) is not read into memory, and a
		// fine-tuned population takes its architecture from its parent:
		// training checks both when it starts.
		fullSize := p.Image != ""
		if _, folder := modelstore.FullSizeFolder(spec); fullSize && !folder {
			bad.add("%s: image applies to folder:DIR data only, not %s", where, spec)
		}
		var data *dataset.Dataset
		if !fullSize {
			var err error
			if data, err = loadData(spec); err != nil {
				bad.add("%s: %v", where, err)
			}
		}
		cfg := vit.DefaultConfig()
		mergeModel(&cfg, f.Model)
		mergeModel(&cfg, p.Model)
		cfg.Variant = variant
		if cfg.PosDim == 0 {
			cfg.PosDim = vit.DefaultPosDim
		}
		if !variant.HasPositionProjection() {
			cfg.PosDim = 0
		}
		if data != nil {
			cfg.ImageHeight, cfg.ImageWidth, cfg.Channels, cfg.Classes = data.Train.H, data.Train.W, data.Train.C, len(data.Classes)
			if len(p.Tasks) > 0 {
				cfg.Classes *= len(p.Tasks)
			}
		}
		if err := cfg.Validate(); err != nil && variant != "" && data != nil && p.Parent == "" {
			bad.add("%s: %v", where, err)
		}
		opt := trainer.DefaultOptions()
		parentEpochs := DefaultParent
		mergeTrain(&opt, &parentEpochs, f.Train)
		mergeTrain(&opt, &parentEpochs, p.Train)
		opt.Seed = f.Seed
		if p.Seed != nil {
			opt.Seed = *p.Seed
		}
		if variant != "" {
			if err := opt.Validate(variant); err != nil {
				bad.add("%s: %s", where, strings.ReplaceAll(err.Error(), "\n", "; "))
			}
		}
		if parentEpochs <= 0 && p.Parent == "" {
			bad.add("%s: parent_epochs must be positive, got %d", where, parentEpochs)
		}
		plan.Populations = append(plan.Populations, workflow.PopulationRequest{Prefix: p.Name, Size: size, Tasks: p.Tasks,
			ParentEpochs: parentEpochs, Member: -1, Independent: p.Independent, RandomOrders: orders, Parent: p.Parent,
			Base: workflow.TrainRequest{Config: cfg, Options: opt, NewHead: p.NewHead, Image: image,
				Data: modelstore.DataOptions{Spec: spec, ValFrac: valFrac, ValSeed: f.Seed, Limit: f.Limit}}})
	}
	known := func(name string) bool {
		if _, ok := defined[name]; ok {
			return true
		}
		if s.Exists(name) {
			return true
		}
		var pop workflow.PopulationSummary
		return s.GetRecord("populations", name, &pop) == nil
	}
	for i, m := range f.Merges {
		where := fmt.Sprintf("merge %d (%s)", i+1, m.Name)
		count := max(m.Count, 1)
		names := []string{m.Name}
		if count > 1 {
			names = names[:0]
			for j := 0; j < count; j++ {
				names = append(names, fmt.Sprintf("%s-%d", m.Name, j))
			}
		}
		if err := checkpoint.ValidName(names[len(names)-1]); err != nil || m.Name == "" {
			bad.add("%s: invalid name %q", where, m.Name)
		}
		if prev, dup := defined[m.Name]; dup {
			bad.add("%s: the name %s is already used by %s", where, m.Name, prev)
		}
		for _, n := range append(names, m.Name) {
			defined[n] = where
		}
		if count > 1 {
			firstOf[m.Name] = names[0]
		}
		method, file, _ := strings.Cut(m.Method, ":")
		switch method {
		case "random", "uniform-soup", "greedy-soup", "search", "align":
		case "recipe":
			if _, err := os.Stat(file); err != nil {
				bad.add("%s: recipe file %q cannot be read", where, file)
			}
		default:
			bad.add("%s: unknown method %q (want random, uniform-soup, greedy-soup, search, align or recipe:FILE)", where, m.Method)
		}
		if len(m.From) == 0 && method != "recipe" {
			bad.add("%s: from names no population or model", where)
		}
		for _, src := range m.From {
			if !known(src) {
				bad.add("%s: from names %s, which is not a population or model of the study (nor in store %s)", where, src, s.Dir)
			}
		}
		if m.Count < 0 || m.Count > merge.MaxCount {
			bad.add("%s: count must be from 1 to %d, got %d", where, merge.MaxCount, m.Count)
		}
		plan.Merges = append(plan.Merges, workflow.MergeRequest{Out: m.Name, From: m.From, Method: m.Method, Seed: m.Seed,
			Count: count, AnyBlock: m.AnyBlock, Eval: true, Orders: orders})
	}
	for i, sw := range f.Sweeps {
		where := fmt.Sprintf("sweep %d (%s)", i+1, sw.Kind)
		o := sweep.Options{Names: sw.Models, Split: first(sw.Split, "test"), Limit: sw.Limit, Seed: sw.Seed}
		if o.Limit == 0 {
			o.Limit = f.Limit
		}
		switch sw.Kind {
		case sweep.Orders:
			o.Orders, o.OrderBatch = positive(sw.Orders, DefaultOrders), positive(sw.OrderBatch, DefaultOrderBatch)
			o.Repeats = DefaultRepeats
			if sw.Repeats != nil {
				o.Repeats = *sw.Repeats
			}
		case sweep.Depth:
			o.Seeds, o.ValLimit, o.References = positive(sw.Seeds, DefaultSeeds), sw.ValLimit, sw.References
			st, err := prune.ParseStrategies(first(sw.Strategies, "all"))
			if err != nil {
				bad.add("%s: strategies: %v", where, err)
			}
			for _, s := range st {
				o.Strategies = append(o.Strategies, string(s))
			}
		case sweep.Merge:
			o.Draws, o.AnyBlock = positive(sw.Draws, DefaultDraws), sw.AnyBlock
		case sweep.MergeMethods:
			o.Orders, o.Seeds = positive(sw.Orders, DefaultMethodOrders), positive(sw.Seeds, DefaultMethodSeeds)
			o.Methods = strings.Split(first(sw.Methods, "all"), ",")
			if _, err := sweep.MethodConfigs(o.Methods); err != nil {
				bad.add("%s: methods: %v", where, err)
			}
		default:
			bad.add("%s: unknown kind %q (want orders, depth, merge or merge-methods)", where, sw.Kind)
		}
		if o.Split != "test" && o.Split != "val" {
			bad.add("%s: split must be test or val, got %q", where, o.Split)
		}
		if sw.Orders < 0 || sw.Seeds < 0 || sw.Draws < 0 || sw.OrderBatch < 0 || sw.Limit < 0 || sw.ValLimit < 0 ||
			sw.Repeats != nil && *sw.Repeats < 0 {
			bad.add("%s: counts and limits must not be negative", where)
		}
		if sw.Orders > trainer.MaxRandomOrders || sw.Seeds > sweep.MaxDraws || sw.Draws > sweep.MaxDraws ||
			sw.Repeats != nil && *sw.Repeats > sweep.MaxDraws {
			bad.add("%s: orders must be at most %d, and seeds, draws and repeats at most %d", where, trainer.MaxRandomOrders, sweep.MaxDraws)
		}
		if len(sw.Models) == 0 {
			bad.add("%s: models names nothing to measure", where)
		}
		for _, name := range append(append([]string{}, sw.Models...), sw.References...) {
			if !known(name) {
				bad.add("%s: %s is not a population or model of the study (nor in store %s)", where, name, s.Dir)
			}
		}
		plan.Sweeps = append(plan.Sweeps, SweepJob{ID: fmt.Sprintf("%d-%s", i+1, sw.Kind),
			Req: workflow.SweepRequest{Kind: sw.Kind, Options: o}})
	}
	analysed := map[string]string{} // model -> the analysis that looks at it
	for i, a := range f.Analyses {
		where := fmt.Sprintf("analysis %d", i+1)
		req := workflow.AnalyzeRequest{Split: first(a.Split, "val"), Limit: workflow.DefaultAnalyzeLimit,
			Options: analysis.Options{Orders: a.Orders, Seed: a.Seed}}
		if a.Limit != nil {
			req.Limit = *a.Limit
		}
		if a.Orders < 0 || a.Orders > trainer.MaxRandomOrders {
			bad.add("%s: orders must be from 0 (2 x depth) to %d, got %d", where, trainer.MaxRandomOrders, a.Orders)
		}
		if req.Limit < 0 || req.Limit == 1 {
			bad.add("%s: limit must be 0 (every image) or at least 2, got %d", where, req.Limit)
		}
		switch req.Split {
		case "val", "test", "train":
		default:
			bad.add("%s: split must be val, test or train, got %q", where, req.Split)
		}
		feature, err := analysis.ParseFeature(first(a.Feature, string(analysis.TokenMean)))
		if err != nil {
			bad.add("%s: feature: %v", where, err)
		}
		req.Options.Feature = feature
		if len(a.Models) == 0 {
			bad.add("%s: models names nothing to analyse", where)
		}
		for _, name := range a.Models {
			model, ok := name, known(name)
			if m, group := firstOf[name]; group {
				model = m
			} else if _, ours := defined[name]; !ours && !s.Exists(name) {
				var pop workflow.PopulationSummary
				if s.GetRecord("populations", name, &pop) == nil {
					model = workflow.MemberName(name, 0)
				}
			}
			if !ok {
				bad.add("%s: %s is not a population or model of the study (nor in store %s)", where, name, s.Dir)
				continue
			}
			if prev, dup := analysed[model]; dup {
				bad.add("%s: %s is already analysed by %s (its results go to analysis-%s/)", where, model, prev, model)
				continue
			}
			analysed[model] = where
			if _, ours := defined[model]; ours && req.Split == "val" && valFrac == 0 {
				bad.add("%s: %s has no validation split (val_frac 0): use split test", where, model)
			}
			job := AnalysisJob{Entry: i + 1, As: name, Req: req}
			job.Req.Name = model
			plan.Analyses = append(plan.Analyses, job)
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("study %s: %d problem(s), nothing was run: %s", source, len(bad), strings.Join(bad, "; "))
	}
	return plan, nil
}

func first(xs ...string) string {
	for _, x := range xs {
		if x != "" {
			return x
		}
	}
	return ""
}

func positive(x, def int) int {
	if x == 0 {
		return def
	}
	return x
}

func mergeModel(c *vit.Config, m ModelSpec) {
	set := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	set(&c.Depth, m.Depth)
	set(&c.Dim, m.Dim)
	set(&c.Heads, m.Heads)
	set(&c.MLP, m.MLP)
	set(&c.Patch, m.Patch)
	set(&c.PosDim, m.PosDim)
}

func mergeTrain(o *trainer.Options, parentEpochs *int, t TrainSpec) {
	if t.Preset == "paper" {
		*o = trainer.PaperPreset(*o)
	}
	if t.Decay != "" {
		o.Decay = t.Decay // decay: cosine beside preset: paper wins, as --decay does
	}
	if o.Decay == trainer.DecayCosine {
		o.Decay = "" // the default, recorded as the CLI records it
	}
	if t.MicroBatch != 0 {
		o.MicroBatch = t.MicroBatch
	}
	if t.Augment != "" {
		o.Augment = t.Augment
	}
	if t.Epochs != 0 {
		o.Epochs = t.Epochs
	}
	if t.ParentEpochs != 0 {
		*parentEpochs = t.ParentEpochs
	}
	if t.Batch != 0 {
		o.Batch = t.Batch
	}
	if t.LR != 0 {
		o.LR = t.LR
	}
	if t.WeightDecay != 0 {
		o.WeightDecay = t.WeightDecay
	}
	if t.ShufflePer != "" {
		o.ShufflePer = t.ShufflePer
	}
	if t.LayerDropP != 0 {
		o.LayerDropP = t.LayerDropP
	}
	if t.PosWeight != 0 {
		o.PosWeight = t.PosWeight
	}
	if t.AugmentShift != 0 {
		o.AugmentShift = t.AugmentShift
	}
}
