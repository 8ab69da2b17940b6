package workflow

import (
	"errors"
	"fmt"
	"io"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/sweep"
)

// SweepRequest is everything `frankenvit bench orders|depth` needs.
type SweepRequest struct {
	Kind    string // sweep.Orders, Depth, Merge or MergeMethods
	Options sweep.Options
	Shard   *sweep.Shard // nil: the whole sweep
	Log     io.Writer
}

// Sweep resolves the names (models, or population prefixes that expand to
// their members), checks every model before measuring anything, and runs
// the sweep's units of the shard.
func Sweep(s *checkpoint.Store, req SweepRequest) (*sweep.Document, error) {
	o := req.Options
	if o.Split == "" {
		o.Split = "test"
	}
	if o.Split != "test" && o.Split != "val" {
		return nil, fmt.Errorf("bad --split %q: want test or val", o.Split)
	}
	if o.Limit < 0 || o.ValLimit < 0 {
		return nil, fmt.Errorf("--limit and --val-limit must be >= 0, got %d and %d", o.Limit, o.ValLimit)
	}
	req.Options = o
	if req.Kind == sweep.MergeMethods {
		return benchMergeMethods(s, req)
	}
	cache := map[modelstore.DataOptions]*modelstore.Data{}
	subjects, err := sweepSubjects(s, o.Names, true, o, cache)
	if err != nil {
		return nil, err
	}
	refs, err := sweepSubjects(s, o.References, false, o, cache)
	if err != nil {
		return nil, fmt.Errorf("--reference: %w", err)
	}
	return sweep.Run(req.Kind, subjects, refs, o, req.Shard, req.Log)
}

// sweepSubjects expands names to the models they stand for.
func sweepSubjects(s *checkpoint.Store, names []string, populations bool, o sweep.Options, cache map[modelstore.DataOptions]*modelstore.Data) ([]sweep.Subject, error) {
	var out []sweep.Subject
	seen := map[string]string{}
	var problems []error
	for _, name := range names {
		members := []string{name}
		if err := checkpoint.ValidName(name); err != nil {
			problems = append(problems, err)
			continue
		}
		if !s.Exists(name) {
			var pop PopulationSummary
			err := s.GetRecord("populations", name, &pop)
			if !populations || errors.Is(err, checkpoint.ErrNotFound) {
				what := "a model"
				if populations {
					what += " or a population"
				}
				problems = append(problems, fmt.Errorf("%s is not %s in store %s", name, what, s.Dir))
				continue
			}
			if err != nil {
				problems = append(problems, err)
				continue
			}
			members = pop.MemberNames()
			if len(members) == 0 {
				problems = append(problems, fmt.Errorf("population %s has no members yet", name))
				continue
			}
		}
		for _, m := range members {
			if prev, dup := seen[m]; dup {
				problems = append(problems, fmt.Errorf("model %s is named twice (by %s and by %s)", m, prev, name))
				continue
			}
			seen[m] = name
			man, err := s.Get(m)
			if err != nil {
				problems = append(problems, err)
				continue
			}
			if man.Status != "complete" {
				problems = append(problems, fmt.Errorf("model %s is not complete (status %q)", m, man.Status))
				continue
			}
			model := m
			out = append(out, sweep.Subject{Group: name, Name: m, Variant: man.Variant, Depth: len(man.Blocks),
				Load: func() (*sweep.Loaded, error) { return loadSubject(s, model, o, cache) }})
		}
	}
	return out, errors.Join(problems...)
}

func loadSubject(s *checkpoint.Store, name string, o sweep.Options, cache map[modelstore.DataOptions]*modelstore.Data) (*sweep.Loaded, error) {
	md, err := modelstore.LoadModelData(s, name, o.Data, cache)
	if err != nil {
		return nil, err
	}
	split, err := md.Data.Split(o.Split)
	if err != nil {
		return nil, err
	}
	if o.Limit > 0 {
		split = split.Limit(o.Limit)
	}
	return &sweep.Loaded{Model: md.Model, Test: split, Val: md.Data.Val, Train: md.Data.Train, Norm: md.Norm}, nil
}
