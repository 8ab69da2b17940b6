package workflow

import (
	"fmt"
	"io"

	"github.com/frankenvit/frankenvit/analysis"
	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/trainer"
)

// DefaultAnalyzeLimit is how many images of the split an analysis looks at
// unless told otherwise (the command's --limit, a study's limit).
const DefaultAnalyzeLimit = 2000

// AnalyzeRequest is everything `frankenvit analyze` needs.
type AnalyzeRequest struct {
	Name    string
	Data    string // "" = the data the model was trained on
	Split   string // val (default), test or train
	Limit   int    // analyse the first Limit images of the split (0 = all)
	Options analysis.Options
	Log     io.Writer // progress; nil for none
}

// Analyze loads a stored model and its data and measures what each block does
// at each slot (package analysis). The validation split is carved as the
// model's training carved it, so it holds no training image; the test split
// is whole, and only the request's Limit shortens the split analysed.
func Analyze(s *checkpoint.Store, req AnalyzeRequest) (*analysis.Report, error) {
	if req.Split == "" {
		req.Split = "val"
	}
	if req.Limit < 0 {
		return nil, fmt.Errorf("--limit must not be negative, got %d", req.Limit)
	}
	if req.Options.Orders < 0 || req.Options.Orders > trainer.MaxRandomOrders {
		return nil, fmt.Errorf("--orders must be from 0 (2 x depth) to %d, got %d", trainer.MaxRandomOrders, req.Options.Orders)
	}
	if _, err := analysis.ParseFeature(string(req.Options.Feature)); req.Options.Feature != "" && err != nil {
		return nil, fmt.Errorf("--feature: %v", err)
	}
	md, err := modelstore.LoadModelData(s, req.Name, req.Data, nil)
	if err != nil {
		return nil, err
	}
	split, err := md.Data.Split(req.Split)
	if err != nil {
		return nil, err
	}
	split = split.Limit(req.Limit)
	if split.N < 2 {
		return nil, fmt.Errorf("the %s split of %s has %d image(s) (--split %s, --limit %d); analyze needs at least 2",
			req.Split, md.Spec, split.N, req.Split, req.Limit)
	}
	o := req.Options
	ticks := map[string]func(int){}
	o.Progress = func(stage string, done, total int) {
		if ticks[stage] == nil {
			what := map[string]string{"sweep": "analyzing " + req.Name + ": image batches x orders",
				"probes": "analyzing " + req.Name + ": slot probes (blocks)"}[stage]
			ticks[stage] = trainer.NewCounter(req.Log, what, total)
		}
		ticks[stage](done)
	}
	rep, err := analysis.Run(md.Model, split, md.Norm, o)
	if err != nil {
		return nil, err
	}
	rep.Data, rep.Split = md.Spec, req.Split
	return rep, nil
}
