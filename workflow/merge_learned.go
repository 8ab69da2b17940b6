package workflow

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/datamerge"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

// LearnedOptions are the settings of the merges that look at data.
type LearnedOptions struct {
	// Images per source the method reads (0: the method's default: 256 for
	// fisher and regmean, every image of the split for adamerging and evolve).
	Images int
	// AdaMerging: Adam steps and learning rate (0: datamerge's defaults).
	Steps int
	LR    float64
	// Evolve: the weight merge whose parameters are evolved (default ties),
	// the budget of evaluations, one parameter set per block, the plan
	// search after, and the trajectory file (appended to; an existing one is
	// resumed).
	EvolveMethod string
	Evaluations  int
	PerBlock     bool
	PlanSearch   bool
	Trajectory   string
}

// IsLearnedMerge reports whether method is a merge that looks at data.
func IsLearnedMerge(method string) bool { _, ok := datamerge.Reads(method); return ok }

// mergeLearned merges the sources with a data-driven method of package
// datamerge, each source reading its own data (a multi-task population's
// child: its task) from the split the method may use. Everything about the
// request is checked before a weight or an image is read.
func mergeLearned(s *checkpoint.Store, req MergeRequest) (*MergeOutcome, error) {
	return mergeLearnedAs(s, req, merge.Record{})
}

// mergeLearnedAs is mergeLearned with the record's recipe file and text
// (a mergekit configuration) kept.
func mergeLearnedAs(s *checkpoint.Store, req MergeRequest, recipe merge.Record) (*MergeOutcome, error) {
	method := req.Method
	lo := req.Learned
	use, _ := datamerge.Reads(method)
	var problems []string
	if lo.Images < 0 || lo.Steps < 0 || lo.Evaluations < 0 || lo.LR < 0 {
		problems = append(problems, "--images, --steps, --evaluations and --lr must not be negative")
	}
	if lo.Images > 0 {
		use.Images = lo.Images
	}
	names, err := ExpandFrom(s, req.From)
	if err != nil {
		return nil, err
	}
	mans, err := manifestsOf(s, names)
	if err != nil {
		return nil, err
	}
	if len(names) < 2 && method != "evolve" {
		problems = append(problems, fmt.Sprintf("%s merges at least 2 models, got %d", method, len(names)))
	}
	base, bp := resolveBase(s, req.Base, method, datamerge.NeedsBase(method), mans, names)
	problems = append(problems, bp...)
	evolveMethod := lo.EvolveMethod
	if method == "evolve" {
		if evolveMethod == "" {
			evolveMethod = "ties"
		}
		if _, ok := methods.Lookup(evolveMethod); !ok {
			problems = append(problems, fmt.Sprintf("--evolve-method: unknown method %q (known: %s)", evolveMethod, strings.Join(methods.Names(), ", ")))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(req.Params)) {
		if !(method == "regmean" && k == "alpha") && method != "evolve" {
			problems = append(problems, fmt.Sprintf("%s takes no parameter %q", method, k))
		}
	}
	if len(problems) > 0 {
		return nil, &merge.ProblemsError{What: "merge --method " + method, Problems: problems}
	}
	if err := namesFree(s, []string{req.Out}); err != nil {
		return nil, err
	}
	src, err := loadSources(s, names, false)
	if err != nil {
		return nil, err
	}
	sources, err := learnedSources(s, src, names, &use)
	if err != nil {
		return nil, err
	}
	baseModel, err := loadBase(s, base)
	if err != nil {
		return nil, err
	}
	rec := merge.Record{Method: method, From: names, Seed: req.Seed, Base: base, Data: &use,
		RecipeFile: recipe.RecipeFile, RecipeText: recipe.RecipeText}
	var out *vit.Model
	switch method {
	case "fisher":
		out, err = datamerge.Fisher(req.Out, sources, datamerge.FisherOptions{Images: use.Images})
	case "regmean":
		opt := datamerge.RegMeanOptions{Images: use.Images}
		if a, ok := req.Params["alpha"]; ok {
			opt.Alpha = a
			if a == 0 {
				opt.Alpha = datamerge.AlphaDiagonal
			}
			rec.Params = map[string]float64{"alpha": a}
		}
		out, err = datamerge.RegMean(req.Out, sources, opt)
	case "adamerging", "adamerging-blocks":
		var res *datamerge.AdaResult
		out, res, err = datamerge.AdaMerging(req.Out, baseModel, sources,
			datamerge.AdaOptions{BlockWise: method == "adamerging-blocks", Steps: lo.Steps, LR: lo.LR, Seed: req.Seed, Log: req.Log})
		if err == nil {
			rec.Learned = &merge.LearnedRecord{What: "merge coefficients of each source's task vector (rows: parts)", Rows: res.Parts,
				Cols: res.Sources, Values: res.Coef, Objective: "mean prediction entropy", Start: res.Entropy[0],
				Final: res.Entropy[len(res.Entropy)-1], Steps: res.Steps}
			rec.Options = map[string]any{"steps": res.Steps, "batch": res.Batch, "lr": res.LR, "init": res.Init}
		}
	case "evolve":
		out, rec.Learned, err = evolveMerge(req, evolveMethod, baseModel, sources)
		rec.Options = map[string]any{"method": evolveMethod, "evaluations": lo.Evaluations, "per_block": lo.PerBlock, "plan_search": lo.PlanSearch}
	}
	if err != nil {
		return nil, fmt.Errorf("merge --method %s: %w", method, err)
	}
	p, err := mergedWeights(req, src, names, out, rec)
	if err != nil {
		return nil, err
	}
	return finish(s, req, method, src, []*planned{p}, false)
}

// learnedSources pairs every source with its own data's split the method
// reads (its task's, for a multi-task population's child), at most
// use.Images images (0: all, and use.Images becomes the fewest a source has).
func learnedSources(s *checkpoint.Store, src *sources, names []string, use *merge.DataUse) ([]datamerge.Source, error) {
	all := use.Images == 0
	cache := map[modelstore.DataOptions]*modelstore.Data{}
	out := make([]datamerge.Source, len(names))
	for i, n := range names {
		md, err := modelstore.LoadModelData(s, n, "", cache)
		if err != nil {
			return nil, err
		}
		split, err := md.Data.Split(use.Split)
		if err != nil {
			return nil, err
		}
		if !all {
			if use.Images > split.N {
				return nil, fmt.Errorf("model %s: --images %d, its %s split has %d", n, use.Images, use.Split, split.N)
			}
			split = split.Limit(use.Images)
		}
		if all && (i == 0 || split.N < use.Images) {
			use.Images = split.N
		}
		if !use.Labels {
			split = unlabeled(split)
		}
		m := src.pool.Models[i]
		task := ""
		if m.Config.TaskIndex(src.mans[n].Data) >= 0 {
			task = src.mans[n].Data
		}
		out[i] = datamerge.Source{Model: m, Data: split, Norm: md.Norm, Task: task}
	}
	return out, nil
}

// unlabeled is a split without its labels, so a method that must not read
// them cannot.
func unlabeled(s *dataset.Split) *dataset.Split {
	c := *s
	c.Labels = nil
	return &c
}

// evolveMerge runs datamerge.Evolve over method's parameters on the
// sources' validation data, appending to (and resuming from) the trajectory
// file when one is named, and records the best parameters as a table
// (rows: part and source; columns: parameters).
func evolveMerge(req MergeRequest, method string, base *vit.Model, sources []datamerge.Source) (*vit.Model, *merge.LearnedRecord, error) {
	lo := req.Learned
	opt := datamerge.EvolveOptions{Evaluations: lo.Evaluations, PerBlock: lo.PerBlock, Seed: req.Seed, Log: req.Log,
		Fixed: maps.Clone(req.Params)}
	if lo.PlanSearch {
		so := req.Search
		so.Seed = req.Seed
		opt.PlanSearch = &so
	}
	if lo.Trajectory != "" {
		f, earlier, err := datamerge.AppendTrajectory(lo.Trajectory)
		if err != nil {
			return nil, nil, fmt.Errorf("--trajectory: %v", err)
		}
		defer f.Close()
		opt.Trajectory, opt.Resume = f, earlier
	}
	m, res, err := datamerge.Evolve(req.Out, method, base, sources, opt)
	if err != nil {
		return nil, nil, err
	}
	var rows, cols []string
	cell := map[[2]string]float64{}
	for _, p := range res.Best {
		row := p.Part
		if p.Source != "" {
			row += " " + p.Source
		}
		if !slices.Contains(rows, row) {
			rows = append(rows, row)
		}
		if !slices.Contains(cols, p.Param) {
			cols = append(cols, p.Param)
		}
		cell[[2]string{row, p.Param}] = p.Value
	}
	values := make([][]float64, len(rows))
	for i, r := range rows {
		values[i] = make([]float64, len(cols))
		for j, c := range cols {
			values[i][j] = cell[[2]string{r, c}]
		}
	}
	what := fmt.Sprintf("%s parameters evolved by CMA-ES (best of %d evaluations", method, res.Evaluations)
	if res.Plan != nil {
		what += "; plan " + merge.RefsString(res.Plan)
	}
	what += ")"
	return m, &merge.LearnedRecord{What: what, Rows: rows, Cols: cols, Values: values, Objective: "mean validation accuracy",
		Start: res.StartFitness, Final: res.BestFitness, Steps: res.Evaluations}, nil
}

func init() {
	for _, name := range datamerge.Methods {
		merge.RegisterDataMethod(datamerge.Spec(name))
	}
}

// mergekitLearned runs a mergekit configuration naming a data-driven merge:
// models: (the sources), base_model and merge-wide parameters (images,
// alpha, steps, lr, evaluations, per_block, plan_search) as numbers; slices,
// per-model parameters, gradients and filters do not apply to these
// methods and are refused with the configuration's other problems.
func mergekitLearned(s *checkpoint.Store, req MergeRequest, file string, text []byte, cfg *merge.MergekitConfig, formErr error) (*MergeOutcome, error) {
	what := "mergekit config " + file
	var problems []string
	var pe *merge.ProblemsError
	if errors.As(formErr, &pe) {
		problems = append(problems, pe.Problems...)
	} else if formErr != nil {
		problems = append(problems, formErr.Error())
	}
	if len(cfg.Slices) > 0 {
		problems = append(problems, fmt.Sprintf("%s merges whole models: give models:, not slices:", cfg.Method))
	}
	for _, m := range cfg.Models {
		if len(m.Params) > 0 {
			problems = append(problems, fmt.Sprintf("line %d: %s takes no per-model parameters", m.Line, cfg.Method))
		}
	}
	params := map[string]float64{}
	for _, k := range slices.Sorted(maps.Keys(cfg.Params)) {
		set := cfg.Params[k]
		if set == nil {
			continue
		}
		if len(set.Conds) > 0 || len(set.Values) != 1 {
			problems = append(problems, fmt.Sprintf("line %d: %s: %s takes one number, not a gradient or filters", set.Line, k, cfg.Method))
			continue
		}
		params[k] = set.Values[0]
	}
	if len(problems) > 0 {
		return nil, &merge.ProblemsError{What: what, Problems: problems}
	}
	req.From, req.Base = nil, cfg.Base
	for _, m := range cfg.Models {
		if m.Model != cfg.Base {
			req.From = append(req.From, m.Model)
		}
	}
	req.Method = cfg.Method
	lo := &req.Learned
	for k, v := range params {
		switch k {
		case "images":
			lo.Images = int(v)
		case "steps":
			lo.Steps = int(v)
		case "lr":
			lo.LR = v
		case "evaluations":
			lo.Evaluations = int(v)
		case "per_block":
			lo.PerBlock = v == 1
		case "plan_search":
			lo.PlanSearch = v == 1
		case "alpha":
			if req.Params == nil {
				req.Params = methods.Params{}
			}
			req.Params["alpha"] = v
		}
	}
	return mergeLearnedAs(s, req, merge.Record{RecipeFile: file, RecipeText: string(text)})
}
