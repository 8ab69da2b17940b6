package modelstore

import (
	"fmt"
	"slices"
	"strings"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
)

// ModelData is a stored model with the data it was trained on: its training
// and validation splits carved as its training carved them (the same limit,
// fraction and seed, so the validation split holds the very images it was
// validated on), the test split whole (a training's --limit is no limit on
// measuring the model), and its normalisation.
type ModelData struct {
	*Stored
	Data *Data
	Spec string // the data set loaded
	Norm dataset.Normalization
}

// LoadModelData loads a model and its own data splits (Load, then
// WithData): every use case that measures a stored model starts here.
func LoadModelData(s *checkpoint.Store, name, data string, cache map[DataOptions]*Data) (*ModelData, error) {
	st, err := Load(s, name)
	if err != nil {
		return nil, err
	}
	return st.WithData(data, cache)
}

// WithData loads the model's own data splits and checks that the model can
// read them; data, when not empty, replaces the data set (same fraction and
// seed for validation). A cache, when not nil, shares data sets loaded for
// earlier models.
func (st *Stored) WithData(data string, cache map[DataOptions]*Data) (*ModelData, error) {
	opt := st.Records.Training.Data
	if data != "" {
		opt.Spec = data
		// A multi-task model's data is one of its tasks or their pool;
		// any other data set is read as it is (labels of its first head).
		if tasks := opt.TaskList(); slices.Index(tasks, data) < 0 && data != dataset.PoolSpec(tasks) {
			opt.Tasks = ""
		}
	}
	if _, folder := FullSizeFolder(opt.Spec); folder && opt.Preprocess.IsZero() && st.Records.Preprocess != nil {
		opt.Preprocess = *st.Records.Preprocess // a pretrained model reads full-size images its own way
	}
	if tasks := st.Model.Config.Tasks; len(tasks) > 0 && opt.Tasks == "" && slices.Index(tasks, opt.Spec) >= 0 {
		opt.Tasks = strings.Join(tasks, ",") // one of its tasks, in its numbering
	}
	d := cache[opt]
	if d == nil {
		var err error
		if d, err = LoadTrainedData(opt); err != nil {
			return nil, err
		}
		if cache != nil {
			cache[opt] = d
		}
	}
	if err := CheckDataFits(st.Model.Config, d.Test, len(d.Set.Classes), st.Model.Name, opt.Spec); err != nil {
		return nil, err
	}
	return &ModelData{Stored: st, Data: d, Spec: opt.Spec, Norm: st.Records.Normalization}, nil
}

// Task resolves which task of a multi-task model to measure: task when
// given, else the task the model was trained on if it is one of its tasks
// (a population's child), else its first. It returns the task and its index
// in Config.Tasks. A single-task model has no task to pick: an error names
// the data it was trained on.
func (st *Stored) Task(task string) (string, int, error) {
	cfg := st.Model.Config
	if len(cfg.Tasks) == 0 {
		return "", -1, fmt.Errorf("model %s is a single-task model (trained on %s): --task applies to multi-task models only",
			st.Model.Name, st.Records.Training.Data.Spec)
	}
	if task == "" {
		task = cfg.Tasks[0]
		if own := st.Records.Training.Data.Spec; cfg.TaskIndex(own) >= 0 {
			task = own
		}
	}
	k := cfg.TaskIndex(task)
	if k < 0 {
		return "", -1, fmt.Errorf("model %s has no task %q: its tasks are %s", st.Model.Name, task, strings.Join(cfg.Tasks, ", "))
	}
	return task, k, nil
}

// WithTask loads the data of task k of a multi-task model, carved as a
// training on that task carves it, with labels in the model's numbering
// (task k's labels are k*C..k*C+C-1), so that an Evaluator scores task k's
// head on task k's images.
func (st *Stored) WithTask(k int, cache map[DataOptions]*Data) (*ModelData, error) {
	cfg := st.Model.Config
	if k < 0 || k >= len(cfg.Tasks) {
		return nil, fmt.Errorf("model %s has no task %d (it has %d)", st.Model.Name, k, len(cfg.Tasks))
	}
	return st.WithData(cfg.Tasks[k], cache)
}
