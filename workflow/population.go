package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/trainer"
)

// PopulationRequest is everything `frankenvit population` needs.
type PopulationRequest struct {
	Prefix       string
	Size         int
	ParentEpochs int
	// Member, when >= 0, trains only that member (after the parent, which it
	// waits for or trains itself), so a job array can spread a population
	// over many machines sharing one store.
	Member      int
	Independent bool // members from their own random inits, no parent
	// Parent, when set, names a stored model (an imported pretrained one)
	// that every member is fine-tuned from, instead of a parent the
	// population trains itself.
	Parent string
	// Base holds the train flags; Base.Options.Epochs are the members'
	// epochs and Base.Options.Seed the population's seed.
	Base TrainRequest
	// RandomOrders is K of the random:K accuracy in the summary.
	RandomOrders int
	// Tasks, when set, makes a multi-task population (see
	// PopulationTasks): Size is then the number of tasks (0 is read as it).
	Tasks []string
	Log   io.Writer
}

// ParentName is the name of a population's parent.
func ParentName(prefix string) string { return prefix + "-parent" }

// parentName is the population's parent: the given one, or its own.
func (r PopulationRequest) parentName() string {
	if r.Parent != "" {
		return r.Parent
	}
	return ParentName(r.Prefix)
}

// MemberName is the name of member i.
func MemberName(prefix string, i int) string { return fmt.Sprintf("%s-%d", prefix, i) }

// memberSeed gives every member its own initialisation, data order and
// block orders, derived from the population's seed.
func memberSeed(seed uint64, i int) uint64 { return seed + 1000 + uint64(i) }

// PopulationSummary is kept in the store as the record populations/PREFIX.
type PopulationSummary struct {
	Prefix      string          `json:"prefix"`
	Parent      string          `json:"parent,omitempty"`
	Independent bool            `json:"independent"`
	Variant     string          `json:"variant"`
	Data        string          `json:"data"`
	Orders      string          `json:"orders"`
	Members     []MemberSummary `json:"members"`
	// Tasks and PerTask are a multi-task population's: its tasks, and one
	// row per task and model measured on it (the task's child and probe,
	// the parent and the multi-task model).
	Tasks   []string      `json:"tasks,omitempty"`
	PerTask []TaskSummary `json:"per_task,omitempty"`
	Updated time.Time     `json:"updated"`
}

// MemberNames lists the population's members (for a multi-task
// population its children), not its parent nor its references: what a
// population prefix stands for in merges and sweeps.
func (p *PopulationSummary) MemberNames() []string {
	var out []string
	for _, m := range p.Members {
		if m.Role == "member" {
			out = append(out, m.Name)
		}
	}
	return out
}

// MemberSummary is one row of the population table.
type MemberSummary struct {
	Name           string  `json:"name"`
	Role           string  `json:"role"`           // parent or member; multi-task or probe (references of a multi-task population)
	Task           string  `json:"task,omitempty"` // a multi-task population's child or probe: its task
	Seed           uint64  `json:"seed"`
	Status         string  `json:"status"`
	ValAccuracy    float64 `json:"val_accuracy"`
	TestSequential float64 `json:"test_accuracy"`
	TestRandom     float64 `json:"test_accuracy_random"`
	TestRandomStd  float64 `json:"test_accuracy_random_std"`
	// Unmeasured marks a given parent (population --parent) that was not
	// measured on the population's data (its head may predict other classes).
	Unmeasured bool `json:"unmeasured,omitempty"`
}

// MaxPopulation bounds a population's size: past it a size is a typo,
// refused before the parent trains.
const MaxPopulation = 10_000

func (r PopulationRequest) validate() error {
	var errs []error
	if r.Size <= 0 || r.Size > MaxPopulation {
		errs = append(errs, fmt.Errorf("--size must be from 1 to %d, got %d", MaxPopulation, r.Size))
	}
	if r.Member >= r.Size && r.Size > 0 {
		errs = append(errs, fmt.Errorf("--member %d is outside a population of %d", r.Member, r.Size))
	}
	if r.Parent != "" && r.Independent {
		errs = append(errs, errors.New("--parent and --independent exclude each other"))
	}
	if !r.Independent && r.Parent == "" && r.ParentEpochs <= 0 {
		errs = append(errs, fmt.Errorf("--parent-epochs must be positive, got %d", r.ParentEpochs))
	}
	if err := trainer.CheckOrderCount(r.RandomOrders); err != nil {
		errs = append(errs, fmt.Errorf("--orders: %v", err))
	}
	if err := checkpoint.ValidName(MemberName(r.Prefix, r.Size)); err != nil {
		errs = append(errs, fmt.Errorf("prefix %q: %v", r.Prefix, err))
	}
	return errors.Join(errs...)
}

// Population trains a population (or one member of it) and returns its
// summary. Finished members are skipped and unfinished ones resumed, so
// rerunning the same command after a crash completes the population.
func Population(s *checkpoint.Store, req PopulationRequest) (*PopulationSummary, error) {
	if len(req.Tasks) > 0 {
		return PopulationTasks(s, req)
	}
	if err := req.validate(); err != nil {
		return nil, err
	}
	switch {
	case req.Parent != "":
		man, err := s.Get(req.Parent)
		if err != nil {
			return nil, fmt.Errorf("--parent: %w", err)
		}
		if man.Status != "complete" {
			return nil, fmt.Errorf("--parent %s is not complete (status %q)", req.Parent, man.Status)
		}
	case !req.Independent:
		if err := ensureTrained(s, req, ParentName(req.Prefix), req.Base.Options.Seed, req.ParentEpochs, ""); err != nil {
			return nil, err
		}
	}
	members := []int{req.Member}
	if req.Member < 0 {
		members = members[:0]
		for i := 0; i < req.Size; i++ {
			members = append(members, i)
		}
	}
	for _, i := range members {
		init := req.parentName()
		if req.Independent {
			init = ""
		}
		name := MemberName(req.Prefix, i)
		if err := ensureTrained(s, req, name, memberSeed(req.Base.Options.Seed, i), req.Base.Options.Epochs, init); err != nil {
			return nil, err
		}
	}
	return summarise(s, req)
}

// ensureTrained trains name unless it is complete. A named lock makes
// concurrent processes wait for the one that trains it (the parent is
// needed by every member); a process killed while training leaves a resume
// state that the next holder continues.
func ensureTrained(s *checkpoint.Store, req PopulationRequest, name string, seed uint64, epochs int, init string) error {
	tr := req.Base
	tr.Name, tr.Init = name, init
	tr.Options.Seed, tr.Options.Epochs = seed, epochs
	man, err := ensureTrainedAs(s, req, tr)
	if err != nil {
		return err
	}
	return ensureMetrics(s, req, man)
}

// ensureTrainedAs trains tr unless a complete model of its name exists
// (which must have been trained with tr's settings) and returns the
// complete manifest.
func ensureTrainedAs(s *checkpoint.Store, req PopulationRequest, tr TrainRequest) (*checkpoint.Manifest, error) {
	unlock, err := s.LockName(tr.Name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	tr.Overwrite = false
	if man, err := s.Get(tr.Name); err == nil && man.Status == "complete" {
		if err := sameTraining(s, man, tr); err != nil {
			return nil, err
		}
		return man, nil
	}
	if req.Log != nil {
		what := ""
		if tr.Data.Tasks != "" {
			what = ", data " + tr.Data.Spec
			if tr.Options.TrainOnly != "" {
				what += ", training only the " + tr.Options.TrainOnly
			}
		}
		fmt.Fprintf(req.Log, "training %s (seed %d, %d epochs%s)\n", tr.Name, tr.Options.Seed, tr.Options.Epochs, what)
	}
	out, err := Train(s, tr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", tr.Name, err)
	}
	return out.Manifest, nil
}

// ensureMetrics adds the test accuracy under random:K orders to a complete
// model's manifest, once, on the test images its training measured its
// sequential test accuracy on (the first Limit of them under a limit).
func ensureMetrics(s *checkpoint.Store, req PopulationRequest, man *checkpoint.Manifest) error {
	if _, ok := man.Metrics["test_accuracy_random"]; ok {
		return nil
	}
	ev, err := Eval(s, EvalRequest{Name: man.Name, Split: "test", Order: fmt.Sprintf("random:%d", req.RandomOrders),
		Seed: req.Base.Options.Seed, Limit: req.Base.Data.Limit, Log: req.Log})
	if err != nil {
		return err
	}
	man.Metrics["test_accuracy_random"] = ev.Accuracy
	man.Metrics["test_accuracy_random_std"] = ev.AccuracyStd
	return s.Replace(man)
}

// summarise reads the members that exist and keeps the summary as a record.
func summarise(s *checkpoint.Store, req PopulationRequest) (*PopulationSummary, error) {
	sum := &PopulationSummary{Prefix: req.Prefix, Independent: req.Independent, Variant: string(req.Base.Config.Variant),
		Data: req.Base.Data.Spec, Orders: fmt.Sprintf("random:%d", req.RandomOrders), Updated: time.Now().UTC()}
	names := []string{}
	if !req.Independent {
		sum.Parent = req.parentName()
		names = append(names, sum.Parent)
	}
	for i := 0; i < req.Size; i++ {
		names = append(names, MemberName(req.Prefix, i))
	}
	for _, name := range names {
		man, err := s.Get(name)
		if errors.Is(err, checkpoint.ErrNotFound) {
			continue // not trained yet (another process's member)
		}
		if err != nil {
			return nil, err
		}
		role := "member"
		if name == sum.Parent {
			role = "parent"
		}
		sum.Members = append(sum.Members, MemberSummary{Name: name, Role: role, Seed: man.Seed, Status: man.Status,
			ValAccuracy: man.Metrics["val_accuracy"], TestSequential: man.Metrics["test_accuracy"],
			TestRandom: man.Metrics["test_accuracy_random"], TestRandomStd: man.Metrics["test_accuracy_random_std"],
			Unmeasured: name == req.Parent})
	}
	unlock, err := s.LockName(req.Prefix + ".summary")
	if err != nil {
		return nil, err
	}
	defer unlock()
	return sum, s.PutRecord("populations", req.Prefix, sum)
}

// sameTraining refuses to reuse a complete member that was trained with
// other settings than the request now asks for (a population or study entry
// edited since): reporting it would report another experiment.
func sameTraining(s *checkpoint.Store, man *checkpoint.Manifest, tr TrainRequest) error {
	rec, err := modelstore.DecodeRecords(man)
	if err != nil {
		return err
	}
	if tr, _, err = resolveTraining(s, tr); err != nil {
		return err
	}
	var diffs []string
	differ := func(what string, old, now any) {
		a, _ := json.Marshal(old)
		b, _ := json.Marshal(now)
		if !bytes.Equal(a, b) {
			diffs = append(diffs, fmt.Sprintf("%s %s -> %s", what, a, b))
		}
	}
	differ("options", rec.Training.Options, tr.Options)
	differ("data", rec.Training.Data, tr.Data)
	differ("init", rec.Training.Init, tr.Init)
	c, want := rec.Config, tr.Config
	differ("model", []any{c.Variant, c.Patch, c.Dim, c.Heads, c.MLP, c.Depth, c.PosDim},
		[]any{want.Variant, want.Patch, want.Dim, want.Heads, want.MLP, want.Depth, want.PosDim})
	if len(diffs) > 0 {
		return fmt.Errorf("model %s is complete but was trained with other settings (%s): remove it (frankenvit store rm %s) or use another name",
			man.Name, strings.Join(diffs, "; "), man.Name)
	}
	return nil
}
