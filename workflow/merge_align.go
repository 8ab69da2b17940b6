package workflow

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/trainer"
)

// mergeAlign aligns every source to the first by weight matching and stores
// the aligned copies as OUT-0 .. OUT-(N-1) (OUT-0 is the reference itself, a
// manifest pointing at its blobs), with a population record OUT, so that
// `merge --from OUT` splices blocks that now share one basis.
func mergeAlign(s *checkpoint.Store, req MergeRequest) (*MergeOutcome, error) {
	names, err := ExpandFrom(s, req.From)
	if err != nil {
		return nil, err
	}
	if len(names) < 2 {
		return nil, fmt.Errorf("--from: align needs a reference and at least one model to align to it, got %d model", len(names))
	}
	outNames := countedNames(req.Out, len(names))
	if err := namesFree(s, outNames); err != nil {
		return nil, err
	}
	src, err := loadSources(s, names, false)
	if err != nil {
		return nil, err
	}
	ref := src.pool.Models[0]
	res := &merge.AlignResult{Reference: ref.Name}
	rec := merge.Record{Method: "align", From: names, Align: res}
	first, err := spliceModel(src, outNames[0], merge.Sequential(ref), rec)
	if err != nil {
		return nil, err
	}
	plans := []*planned{first}
	tick := trainer.NewCounter(req.Log, "aligning to "+ref.Name+" (models)", len(names)-1)
	for i, m := range src.pool.Models[1:] {
		aligned, rep, err := merge.Align(ref, m, outNames[i+1])
		if err != nil {
			return nil, fmt.Errorf("align %s to %s: %v", m.Name, ref.Name, err)
		}
		res.Models = append(res.Models, *rep)
		man := src.mans[m.Name]
		one := merge.Record{Method: "align", From: []string{ref.Name, m.Name}, Align: &merge.AlignResult{Reference: ref.Name, Models: []merge.AlignedModel{*rep}}}
		recJSON, _ := json.Marshal(one)
		plans = append(plans, &planned{model: aligned, result: MergedModel{Name: outNames[i+1], Role: "merged",
			Plan: fmt.Sprintf("%s aligned to %s (weight cosine %.3f -> %.3f)", m.Name, ref.Name, rep.Before, rep.After)},
			man: &checkpoint.Manifest{FormatVersion: checkpoint.ManifestFormatVersion, Name: outNames[i+1], CreatedAt: time.Now().UTC(),
				Status: "complete", Data: man.Data, Normalization: man.Normalization, Training: man.Training, Seed: man.Seed,
				Recipe: recJSON, Metrics: map[string]float64{}}})
		tick(i + 1)
	}
	// The reference's own record lists every alignment, and its splice
	// (spliceModel recorded it in a copy of rec, replaced here).
	rec.Splice = first.splice
	recJSON, _ := json.Marshal(rec)
	first.man.Recipe = recJSON
	first.result.Plan = ref.Name + " (the reference, unchanged)"
	out, err := finish(s, req, "align", src, plans, true)
	if err != nil {
		return nil, err
	}
	out.Align = res
	return out, nil
}
