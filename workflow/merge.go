package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/datamerge"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// MergeRequest is everything `frankenvit merge` needs.
type MergeRequest struct {
	Out string
	// From names the source models; a population prefix (a record
	// populations/PREFIX) stands for its members.
	From     []string
	Method   string // random | recipe:FILE | uniform-soup | greedy-soup | search | align | a merge/methods name (ties, slerp, ...)
	Seed     uint64
	Count    int    // random: how many models (OUT-0 .. OUT-(K-1) when K > 1)
	AnyBlock bool   // random: a slot may take any block of its source
	Stem     string // random, search: the model giving stem and head ("" = drawn / the best member)
	Search   merge.SearchOptions
	// Weight merges (merge/methods): the base model ("" = the sources'
	// common parent when the method needs one), the models' weights (one per
	// model, or one for all) and the merge-wide parameters given (density,
	// lambda, t, ...; a per-model parameter here applies to every model).
	Base    string
	Weights []float64
	Params  methods.Params
	// Evaluation of the results (and of the sources, for comparison).
	Eval   bool
	Data   string // "" = the data the sources were trained on
	Limit  int    // evaluate on the first Limit images of each split only
	Orders int    // K of the test accuracy under random:K orders; 0 = none
	// Learned are the settings of the merges that look at data (fisher,
	// regmean, adamerging, adamerging-blocks, evolve).
	Learned LearnedOptions
	Log     io.Writer
}

// MergedModel is one row of the merge table: a source or a result.
type MergedModel struct {
	Name           string  `json:"name"`
	Role           string  `json:"role"` // source or merged
	Plan           string  `json:"plan"`
	ValAccuracy    float64 `json:"val_accuracy"`
	TestSequential float64 `json:"test_accuracy"`
	TestRandom     float64 `json:"test_accuracy_random"`
	TestRandomStd  float64 `json:"test_accuracy_random_std"`
	Evaluated      bool    `json:"evaluated"`
}

// MergeOutcome is what a merge stored and measured.
type MergeOutcome struct {
	Method string `json:"method"`
	Out    string `json:"out"`
	Data   string `json:"data,omitempty"`
	Orders string `json:"orders,omitempty"`
	// ValImages and TestImages are how many images of each split every
	// evaluated row was measured on.
	ValImages  int           `json:"val_images,omitempty"`
	TestImages int           `json:"test_images,omitempty"`
	Sources    []MergedModel `json:"sources"`
	Merged     []MergedModel `json:"merged"`
	// Search and Soup carry the method's own report.
	Search *merge.SearchResult `json:"search,omitempty"`
	Soup   *merge.SoupResult   `json:"soup,omitempty"`
	Align  *merge.AlignResult  `json:"align,omitempty"`
}

// sources are the loaded source models with their manifests.
type sources struct {
	pool *merge.Pool
	mans map[string]*checkpoint.Manifest
}

// ExpandFrom resolves --from: each entry is a model, or a population prefix
// whose members (not its parent) it stands for.
func ExpandFrom(s *checkpoint.Store, from []string) ([]string, error) {
	var out []string
	var problems []string
	seen := map[string]bool{}
	for _, f := range from {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		names := []string{f}
		if !s.Exists(f) {
			var pop PopulationSummary
			err := s.GetRecord("populations", f, &pop)
			switch {
			case errors.Is(err, checkpoint.ErrNotFound) || checkpoint.ValidName(f) != nil:
				problems = append(problems, fmt.Sprintf("no model or population %q in store %s", f, s.Dir))
				continue
			case err != nil:
				return nil, err
			}
			names = pop.MemberNames()
		}
		for _, n := range names {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("--from: %s", strings.Join(problems, "; "))
	}
	if len(out) == 0 {
		return nil, errors.New("--from names no model: give models or population prefixes, e.g. --from pop-0,pop-1")
	}
	return out, nil
}

// loadSources loads the named models (missing ones are left out when
// allowMissing, so a recipe can report them with its other problems).
func loadSources(s *checkpoint.Store, names []string, allowMissing bool) (*sources, error) {
	src := &sources{mans: map[string]*checkpoint.Manifest{}}
	var models []*vit.Model
	for _, n := range names {
		st, err := modelstore.Load(s, n)
		if err != nil {
			if allowMissing && errors.Is(err, checkpoint.ErrNotFound) {
				continue
			}
			return nil, err
		}
		if st.Manifest.Status != "complete" {
			return nil, fmt.Errorf("model %s is not complete (status %q)", n, st.Manifest.Status)
		}
		models = append(models, st.Model)
		src.mans[n] = st.Manifest
	}
	pool, err := merge.NewPool(models...)
	if err != nil {
		return nil, err
	}
	src.pool = pool
	return src, nil
}

// Merge builds, measures and stores merged models as the method says.
// Everything is checked, built and evaluated before the first manifest is
// written, so a bad request stores nothing.
func Merge(s *checkpoint.Store, req MergeRequest) (*MergeOutcome, error) {
	if err := checkpoint.ValidName(req.Out); err != nil {
		return nil, err
	}
	if req.Orders < 0 || req.Orders > trainer.MaxRandomOrders {
		return nil, fmt.Errorf("--orders must be from 0 to %d, got %d", trainer.MaxRandomOrders, req.Orders)
	}
	method, file, _ := strings.Cut(req.Method, ":")
	if method == "recipe" {
		return mergeRecipe(s, req, file)
	}
	if file != "" {
		return nil, fmt.Errorf("--method %q: only recipe takes a file (recipe:FILE)", req.Method)
	}
	switch method {
	case "random":
		return mergeRandom(s, req)
	case "uniform-soup":
		return mergeSoup(s, req, false)
	case "greedy-soup":
		return mergeSoup(s, req, true)
	case "search":
		return mergeSearch(s, req)
	case "align":
		return mergeAlign(s, req)
	}
	if _, ok := methods.Lookup(method); ok {
		return mergeWeights(s, req)
	}
	if IsLearnedMerge(method) {
		return mergeLearned(s, req)
	}
	return nil, fmt.Errorf("--method %q: want random, recipe:FILE, uniform-soup, greedy-soup, search, align, a weight merge (%s) or a merge that looks at data (%s)",
		req.Method, strings.Join(methods.Names(), ", "), strings.Join(datamerge.Methods, ", "))
}

// planned is one model a merge is about to store.
type planned struct {
	model  *vit.Model
	man    *checkpoint.Manifest
	splice *merge.Splice // nil for new weights
	// newBlocks are a splice's slots that are new weights (merged slots of
	// a recipe), stored as blobs of their own.
	newBlocks map[int]*vit.Block
	result    MergedModel
}

// spliceWithMerged builds a splice and its manifest: the stem's and head's
// parts and every block's part by reference to the donors' blobs, except
// the slots that are new blocks (sp names them as the result's own; stand
// has a donor's block of the same size there, for building), stored as
// blobs of the result's own.
func spliceWithMerged(src *sources, name string, stand, sp merge.Splice, rec merge.Record, blocks map[int]*vit.Block) (*planned, error) {
	m, err := stand.Build(name, src.pool)
	if err != nil {
		return nil, err
	}
	stemMan, headMan := src.mans[sp.Stem], src.mans[sp.Head]
	rec.Splice = &sp
	recJSON, err := json.Marshal(rec)
	if err != nil {
		return nil, err
	}
	man := &checkpoint.Manifest{FormatVersion: checkpoint.ManifestFormatVersion, Name: name, CreatedAt: time.Now().UTC(),
		Status: "complete", Variant: stemMan.Variant, Config: stemMan.Config, Data: stemMan.Data,
		Normalization: stemMan.Normalization, Seed: rec.Seed, Training: stemMan.Training,
		Stem: stemMan.Stem, Head: headMan.Head, Recipe: recJSON, Metrics: map[string]float64{}}
	for k, r := range sp.Blocks {
		if b, ok := blocks[k]; ok {
			m.Blocks[k] = b
			man.Blocks = append(man.Blocks, checkpoint.PartRef{Source: name, Index: k}) // blob set when stored
			continue
		}
		man.Blocks = append(man.Blocks, src.mans[r.Model].Blocks[r.Index])
	}
	return &planned{model: m, man: man, splice: &sp, newBlocks: blocks,
		result: MergedModel{Name: name, Role: "merged", Plan: sp.String()}}, nil
}

func mergeRandom(s *checkpoint.Store, req MergeRequest) (*MergeOutcome, error) {
	if req.Count <= 0 || req.Count > merge.MaxCount {
		return nil, fmt.Errorf("--count must be from 1 to %d, got %d", merge.MaxCount, req.Count)
	}
	names, err := ExpandFrom(s, req.From)
	if err != nil {
		return nil, err
	}
	outNames := countedNames(req.Out, req.Count)
	if err := namesFree(s, outNames); err != nil {
		return nil, err
	}
	src, err := loadSources(s, names, false)
	if err != nil {
		return nil, err
	}
	splices, err := merge.Random(src.pool, merge.RandomOptions{Count: req.Count, AnyBlock: req.AnyBlock, Stem: req.Stem, Seed: req.Seed})
	if err != nil {
		return nil, err
	}
	var plans []*planned
	for k, sp := range splices {
		rec := merge.Record{Method: "random", From: names, Seed: req.Seed, AnyBlock: req.AnyBlock, Draw: k}
		p, err := spliceModel(src, outNames[k], sp, rec)
		if err != nil {
			return nil, err
		}
		plans = append(plans, p)
	}
	return finish(s, req, "random", src, plans, req.Count > 1)
}

func mergeRecipe(s *checkpoint.Store, req MergeRequest, file string) (*MergeOutcome, error) {
	if file == "" {
		return nil, errors.New("--method recipe needs a file: --method recipe:FILE.yaml")
	}
	text, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("recipe %s: %v", file, errors.Unwrap(err))
	}
	if merge.IsMergekit(text) {
		return mergeMergekit(s, req, file, text)
	}
	r, formErr := merge.ParseRecipe(text)
	if r == nil {
		return nil, fmt.Errorf("recipe %s: %v", file, formErr)
	}
	if len(req.From) > 0 {
		return nil, fmt.Errorf("--from does not apply to a recipe: recipe %s names its own models", file)
	}
	src, err := loadSources(s, r.Models(), true)
	if err != nil {
		return nil, fmt.Errorf("recipe %s: %v", file, err)
	}
	sp, err := r.Resolve(src.pool)
	// Problems of form and problems with the models, in one message.
	var problems []string
	for _, e := range []error{formErr, err} {
		var pe *merge.ProblemsError
		if errors.As(e, &pe) {
			problems = append(problems, pe.Problems...)
		} else if e != nil {
			problems = append(problems, e.Error())
		}
	}
	if len(problems) > 0 {
		return nil, &merge.ProblemsError{What: "recipe " + file, Problems: problems}
	}
	if err := namesFree(s, []string{req.Out}); err != nil {
		return nil, err
	}
	rec := merge.Record{Method: "recipe", From: src.pool.Names(), RecipeFile: file, RecipeText: string(text), Seed: req.Seed}
	// Merged slots: new blocks of the result, stored as its own blobs.
	merged, slots, err := r.MergedSlots(req.Out, src.pool, req.Seed)
	if err != nil {
		return nil, fmt.Errorf("recipe %s: %v", file, err)
	}
	rec.Slots = slots
	stand := sp
	stand.Blocks = append([]merge.Ref(nil), sp.Blocks...)
	for _, sr := range slots {
		sp.Blocks[sr.Slot] = merge.Ref{Model: req.Out, Index: sr.Slot}
	}
	p, err := spliceWithMerged(src, req.Out, stand, sp, rec, merged)
	if err != nil {
		return nil, err
	}
	return finish(s, req, "recipe", src, []*planned{p}, false)
}

// countedNames is OUT for one model, OUT-0 .. OUT-(K-1) for K.
func countedNames(out string, k int) []string {
	if k == 1 {
		return []string{out}
	}
	names := make([]string, k)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%d", out, i)
	}
	return names
}

// namesFree refuses names that are invalid or taken, all at once.
func namesFree(s *checkpoint.Store, names []string) error {
	var problems []string
	for _, n := range names {
		if err := checkpoint.ValidName(n); err != nil {
			return err
		}
		if s.Exists(n) {
			problems = append(problems, n)
		}
	}
	if len(problems) > 0 {
		what := "model " + problems[0] + " already exists"
		if len(problems) > 1 {
			what = "models " + strings.Join(problems, ", ") + " already exist"
		}
		return fmt.Errorf("%s in store %s: choose another name (or `store rm` it first)", what, s.Dir)
	}
	return nil
}

// spliceModel builds a splice of the donors' parts and its manifest
// (spliceWithMerged without new blocks).
func spliceModel(src *sources, name string, sp merge.Splice, rec merge.Record) (*planned, error) {
	return spliceWithMerged(src, name, sp, sp, rec, nil)
}

// finish evaluates the sources and the results (when asked), stores the
// results, and keeps a population record for a group of results.
func finish(s *checkpoint.Store, req MergeRequest, method string, src *sources, plans []*planned, group bool) (*MergeOutcome, error) {
	return finishWith(s, req, method, src, plans, group, nil)
}

// finishWith is finish with the data already loaded (eval may be nil).
func finishWith(s *checkpoint.Store, req MergeRequest, method string, src *sources, plans []*planned, group bool, eval *modelEval) (*MergeOutcome, error) {
	out := &MergeOutcome{Method: method, Out: req.Out}
	for _, m := range src.pool.Models {
		out.Sources = append(out.Sources, MergedModel{Name: m.Name, Role: "source", Plan: "sequential"})
	}
	if req.Eval {
		if eval == nil {
			var err error
			if eval, err = newModelEval(req, src); err != nil {
				return nil, err
			}
		}
		if err := evaluateWith(eval, req, src, plans, out); err != nil {
			return nil, err
		}
	}
	err := s.WithSharedLock(func() error {
		for _, p := range plans {
			if p.splice == nil {
				if err := modelstore.PutWeights(s, p.model, p.man); err != nil {
					return err
				}
			}
			for slot, b := range p.newBlocks {
				digest, err := s.PutBlob(modelstore.PartTensors(b.Params()))
				if err != nil {
					return err
				}
				p.man.Blocks[slot].Blob = digest
			}
			if err := s.Create(p.man); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, p := range plans {
		out.Merged = append(out.Merged, p.result)
	}
	if group {
		if err := putGroupRecord(s, req, method, src, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// putGroupRecord keeps a group of merged models as a population record, so
// that --from OUT and the sweeps expand to them.
func putGroupRecord(s *checkpoint.Store, req MergeRequest, method string, src *sources, out *MergeOutcome) error {
	first := src.mans[src.pool.Models[0].Name]
	sum := PopulationSummary{Prefix: req.Out, Independent: true, Variant: first.Variant, Data: first.Data,
		Orders: out.Orders, Updated: time.Now().UTC()}
	for _, m := range out.Merged {
		sum.Members = append(sum.Members, MemberSummary{Name: m.Name, Role: "member", Seed: req.Seed, Status: "complete",
			ValAccuracy: m.ValAccuracy, TestSequential: m.TestSequential, TestRandom: m.TestRandom, TestRandomStd: m.TestRandomStd})
	}
	return s.PutRecord("populations", req.Out, sum)
}

// shortNames joins names without their common prefix.
func shortNames(names []string) string {
	cut := len(commonPrefix(names))
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = n[cut:]
	}
	return strings.Join(out, ",")
}

// commonPrefix is the longest prefix of all names that ends in '-' (so
// that no name is cut to nothing or mid-word).
func commonPrefix(names []string) string {
	if len(names) < 2 {
		return ""
	}
	p := names[0]
	for _, n := range names[1:] {
		for !strings.HasPrefix(n, p) {
			p = p[:len(p)-1]
		}
	}
	if i := strings.LastIndexByte(p, '-'); i >= 0 {
		p = p[:i+1]
	} else {
		p = ""
	}
	for _, n := range names {
		if len(n) == len(p) {
			return ""
		}
	}
	return p
}
