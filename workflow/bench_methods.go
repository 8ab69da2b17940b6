package workflow

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/sweep"
	"github.com/frankenvit/frankenvit/vit"
)

// benchMergeMethods resolves every population named (its members, its
// parent as the base, and its reference models when they exist), checks
// that every method can run on it before loading any weight, and runs the
// merge-methods sweep (`frankenvit bench merge-methods`).
func benchMergeMethods(s *checkpoint.Store, req SweepRequest) (*sweep.Document, error) {
	o := req.Options
	if len(o.Methods) == 0 {
		o.Methods = []string{"all"}
	}
	cache := map[modelstore.DataOptions]*modelstore.Data{}
	var groups []sweep.MethodsGroup
	var problems []error
	for _, prefix := range o.Names {
		g, err := methodsGroup(s, prefix, o, cache)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		groups = append(groups, g)
	}
	if err := errors.Join(problems...); err != nil {
		return nil, err
	}
	return sweep.RunMethods(groups, o, req.Shard, req.Log)
}

// methodsGroup is a population as the merge-methods sweep needs it.
func methodsGroup(s *checkpoint.Store, prefix string, o sweep.Options, cache map[modelstore.DataOptions]*modelstore.Data) (sweep.MethodsGroup, error) {
	var pop PopulationSummary
	if err := checkpoint.ValidName(prefix); err != nil {
		return sweep.MethodsGroup{}, err
	}
	if err := s.GetRecord("populations", prefix, &pop); err != nil {
		if errors.Is(err, checkpoint.ErrNotFound) {
			return sweep.MethodsGroup{}, fmt.Errorf("%s is not a population in store %s (bench merge-methods merges a population's members)", prefix, s.Dir)
		}
		return sweep.MethodsGroup{}, err
	}
	g := sweep.MethodsGroup{Name: prefix, Variant: pop.Variant}
	subject := func(name, role string) (sweep.Subject, error) {
		man, err := s.Get(name)
		if err != nil {
			return sweep.Subject{}, err
		}
		if man.Status != "complete" {
			return sweep.Subject{}, fmt.Errorf("model %s is not complete (status %q)", name, man.Status)
		}
		var cfg vit.Config
		if err := json.Unmarshal(man.Config, &cfg); err != nil {
			return sweep.Subject{}, fmt.Errorf("model %s: config: %v", name, err)
		}
		sub := sweep.Subject{Group: prefix, Name: name, Variant: man.Variant, Depth: len(man.Blocks), Role: role,
			Load: func() (*sweep.Loaded, error) { return loadSubject(s, name, o, cache) }}
		if len(cfg.Tasks) > 0 {
			if cfg.TaskIndex(man.Data) >= 0 {
				sub.Task = man.Data // a child: its own task; the parent was trained on all
			}
			sub.LoadTask = func(task string) (*sweep.Loaded, error) { return loadSubjectTask(s, name, task, o, cache) }
		}
		return sub, nil
	}
	var problems []error
	for _, m := range pop.Members {
		switch m.Role {
		case "member":
			sub, err := subject(m.Name, sweep.RoleIndividual)
			if err != nil {
				problems = append(problems, err)
				continue
			}
			g.Members = append(g.Members, sub)
		case "parent":
			sub, err := subject(m.Name, sweep.RoleParent)
			if err != nil {
				problems = append(problems, err)
				continue
			}
			g.Base = &sub
		}
	}
	if len(g.Members) == 0 {
		problems = append(problems, fmt.Errorf("population %s has no complete members yet", prefix))
	}
	for _, ref := range methodsReferences(s, prefix, g.Members) {
		sub, err := subject(ref.name, ref.role)
		if err != nil {
			problems = append(problems, err)
			continue
		}
		if ref.task != "" {
			sub.Task = ref.task
		}
		g.References = append(g.References, sub)
	}
	return g, errors.Join(problems...)
}

type methodsReference struct{ name, role, task string }

// methodsReferences finds the reference models of a multi-task population
// that exist in the store: PREFIX-mt (trained on all tasks together) and
// PREFIX-probe-K (the parent with task K's head fine-tuned).
func methodsReferences(s *checkpoint.Store, prefix string, members []sweep.Subject) []methodsReference {
	var out []methodsReference
	if name := MultiTaskName(prefix); s.Exists(name) {
		out = append(out, methodsReference{name: name, role: sweep.RoleMultiTask})
	}
	for k, m := range members {
		if m.Task == "" {
			continue
		}
		if name := ProbeName(prefix, k); s.Exists(name) {
			out = append(out, methodsReference{name: name, role: sweep.RolePretrained, task: m.Task})
		}
	}
	return out
}

// loadSubjectTask loads a multi-task model with one task's data, labels in
// the model's numbering, so that the evaluator scores that task's head.
func loadSubjectTask(s *checkpoint.Store, name, task string, o sweep.Options, cache map[modelstore.DataOptions]*modelstore.Data) (*sweep.Loaded, error) {
	o.Data = task
	return loadSubject(s, name, o, cache)
}
