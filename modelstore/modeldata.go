package modelstore

import (
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
