package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// TrainRequest is everything `frankenvit train` needs.
type TrainRequest struct {
	Name    string
	Config  vit.Config // image size, channels and classes are taken from the data
	Data    modelstore.DataOptions
	Options trainer.Options
	Init    string // start from this stored model's weights (a population parent, a pretrained model)
	// NewHead lets a model fine-tuned from Init predict another number of
	// classes than Init: its classifier starts afresh.
	NewHead bool
	// Image, when set, is the input size (height, width) of a model trained
	// on full-size folder data; a model fine-tuned at another size than its
	// init model's gets its position embedding resampled.
	Image [2]int
	// Overwrite replaces a model of the same name once this one has stored
	// its first epoch; without it an existing name is an error.
	Overwrite bool
	Log       io.Writer // progress; nil for none
	// AfterEpoch, if set, runs after each epoch has been stored.
	AfterEpoch func(m *vit.Model, rec trainer.EpochRecord)
}

// TrainOutcome is a finished training.
type TrainOutcome struct {
	Model        string      `json:"model"`
	Variant      vit.Variant `json:"variant"`
	Data         string      `json:"data"`
	Params       int         `json:"params"`
	BestEpoch    int         `json:"best_epoch"`
	ValAccuracy  float64     `json:"val_accuracy"`
	TestAccuracy float64     `json:"test_accuracy"`
	// ValImages and TestImages are how many images the two accuracies were
	// measured on (the training's --limit shortens its test split; eval
	// measures the whole one).
	ValImages  int                   `json:"val_images"`
	TestImages int                   `json:"test_images"`
	History    []trainer.EpochRecord `json:"history"`
	Manifest   *checkpoint.Manifest  `json:"-"`
}

// resolveTraining fills in what a request leaves to its init model: the
// architecture (fineTuneConfig), the parent's task numbering for one task of
// a multi-task parent, and the full-size preprocessing. It returns the init
// model (nil without one).
func resolveTraining(s *checkpoint.Store, req TrainRequest) (TrainRequest, *modelstore.Stored, error) {
	var parent *modelstore.Stored
	if req.Init != "" {
		var err error
		if parent, err = modelstore.Load(s, req.Init); err != nil {
			return req, nil, fmt.Errorf("--init: %w", err)
		}
		req.Config = fineTuneConfig(parent.Model, req.Config)
		if req.Data.Tasks == "" && parent.Model.Config.TaskIndex(req.Data.Spec) >= 0 {
			// One task of a multi-task parent (a probe, a child by hand): in
			// the parent's numbering, so every head is kept.
			req.Data.Tasks = strings.Join(parent.Model.Config.Tasks, ",")
		}
	}
	pre, err := fullSizePreprocess(req.Data, req.Image, parent)
	if err != nil {
		return req, nil, err
	}
	req.Data.Preprocess = pre
	return req, parent, nil
}

// Train trains a model and keeps it in the store. The best epoch so far is
// stored after every epoch, with a resume state, so a crash or a NaN loss
// leaves the last good checkpoint. Rerunning the same request after a crash
// continues from the last finished epoch and ends with the same weights as
// an uninterrupted run; a complete model of the same name is an error unless
// Overwrite is set.
func Train(s *checkpoint.Store, req TrainRequest) (*TrainOutcome, error) {
	if err := checkpoint.ValidName(req.Name); err != nil {
		return nil, err
	}
	var existing *checkpoint.Manifest
	if s.Exists(req.Name) {
		var err error
		if existing, err = s.Get(req.Name); err != nil && !req.Overwrite {
			return nil, err
		}
		if existing != nil && existing.Status == "complete" && !req.Overwrite {
			return nil, fmt.Errorf("model %s already exists in store %s: choose another name or pass --overwrite", req.Name, s.Dir)
		}
	}
	if err := req.Options.Validate(req.Config.Variant); err != nil {
		return nil, err
	}
	req, parent, err := resolveTraining(s, req)
	if err != nil {
		return nil, err
	}
	cfg := req.Config
	data, err := modelstore.LoadData(req.Data)
	if err != nil {
		return nil, err
	}
	tr := data.Train
	cfg.ImageHeight, cfg.ImageWidth, cfg.Channels, cfg.Classes = tr.H, tr.W, tr.C, len(data.Set.Classes)
	// A multi-task model's tasks come with its data (the pool, or one task
	// of it with the pool's numbering of labels): one head per task.
	cfg.Tasks = req.Data.TaskList()
	m, err := vit.NewModel(req.Name, cfg)
	if err != nil {
		return nil, err
	}
	m.Init(req.Options.Seed)
	var norm dataset.Normalization
	inherited := false
	if parent != nil {
		if err := copyPretrained(m, parent.Model, req.NewHead, req.Log); err != nil {
			return nil, fmt.Errorf("--init %s: %w", req.Init, err)
		}
		if parent.Manifest.Data == req.Data.Spec || (req.Data.Tasks != "" && parent.Records.Training.Data.Tasks == req.Data.Tasks) ||
			parent.Records.Preprocess != nil {
			// Children keep their parent's input scale, and so do the tasks
			// of a multi-task parent fine-tuned one at a time and models
			// fine-tuned from a pretrained checkpoint (its ImageNet statistics).
			norm, inherited = parent.Records.Normalization, true
		}
	}
	if !inherited {
		// Measured only when not inherited: on a full-size folder it
		// decodes up to 1000 images.
		if norm, err = dataset.MeasureNormalization(tr); err != nil {
			return nil, err
		}
	}
	normJSON, _ := json.Marshal(norm)
	cfgJSON, _ := json.Marshal(cfg)
	record, _ := json.Marshal(modelstore.TrainingRecord{Options: req.Options, Data: req.Data, Init: req.Init, Params: m.NumParams()})
	man := &checkpoint.Manifest{FormatVersion: 1, Name: req.Name, CreatedAt: time.Now().UTC(), Status: "training",
		Data: req.Data.Spec, Normalization: normJSON, Seed: req.Options.Seed, Parent: req.Init, Training: record}
	if p := req.Data.Preprocess; !p.IsZero() {
		man.Preprocess, _ = json.Marshal(p)
	}
	hooks := trainer.Hooks{Progress: trainer.NewProgress(req.Log)}
	var history []trainer.EpochRecord
	if existing != nil && !req.Overwrite {
		// An unfinished training of the same name: continue it if it is this one.
		if string(existing.Training) != string(record) || string(existing.Config) != string(cfgJSON) {
			return nil, fmt.Errorf("model %s is an unfinished training with other settings (status %q): rerun it with its own flags, or pass --overwrite", req.Name, existing.Status)
		}
		st, err := modelstore.LoadState(s, m)
		if err != nil {
			return nil, err
		}
		if st != nil {
			man = existing
			man.Status = "training"
			hooks.Resume, history = st, st.History
		}
	} else if req.Overwrite {
		if err := s.RemoveState(req.Name); err != nil {
			return nil, err
		}
	}
	stored := existing != nil // Replace, not Create, from the first save on
	save := func() error {
		if stored {
			return s.Replace(man)
		}
		if err := s.Create(man); err != nil {
			return err
		}
		stored = true
		return nil
	}
	hooks.OnEpoch = func(rec trainer.EpochRecord, best bool) error {
		history = append(history, rec)
		man.History, _ = json.Marshal(history)
		// Blobs and the manifest that references them under one shared lock,
		// so a concurrent gc cannot take the fresh blobs away in between.
		err := s.WithSharedLock(func() error {
			if best {
				if err := modelstore.PutWeights(s, m, man); err != nil {
					return err
				}
				man.Metrics = map[string]float64{"best_epoch": float64(rec.Epoch), "val_accuracy": rec.ValAcc}
			}
			if stored || best {
				return save()
			}
			return nil
		})
		if err != nil {
			return err
		}
		if req.AfterEpoch != nil {
			req.AfterEpoch(m, rec)
		}
		return nil
	}
	hooks.OnState = func(st *trainer.State) error { return modelstore.SaveState(s, m, st) }
	res, err := trainer.Train(m, tr, data.Val, norm, req.Options, hooks)
	if err != nil {
		if stored && (errors.Is(err, trainer.ErrNonFinite) || errors.Is(err, vit.ErrOperator)) {
			man.Status = "stopped: " + err.Error()
			if serr := s.Replace(man); serr != nil {
				return nil, fmt.Errorf("%v (and updating the manifest failed: %v)", err, serr)
			}
		}
		return nil, err
	}
	testAcc, _ := trainer.NewEvaluator(m, data.Test, norm).Accuracy(m.Sequential())
	man.Metrics["test_accuracy"] = testAcc
	man.Status = "complete"
	if err := save(); err != nil {
		return nil, err
	}
	if err := s.RemoveState(req.Name); err != nil {
		return nil, err
	}
	// Every improving epoch stored new blobs; the superseded ones are garbage.
	if _, err := s.GC(); err != nil && req.Log != nil {
		fmt.Fprintf(req.Log, "note: store gc after training: %v\n", err)
	}
	return &TrainOutcome{Model: req.Name, Variant: cfg.Variant, Data: req.Data.Spec, Params: m.NumParams(),
		BestEpoch: res.BestEpoch, ValAccuracy: res.BestVal, TestAccuracy: testAcc, ValImages: data.Val.N, TestImages: data.Test.N,
		History: res.History, Manifest: man}, nil
}
