package workflow

import (
	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

// ModelData is a stored model with the data it was trained on, its training
// and validation splits carved as its training carved them (the same limit,
// fraction and seed), the test split whole, and its normalisation.
type ModelData struct {
	Model    *vit.Model
	Manifest *checkpoint.Manifest
	Data     *Data
	Spec     string
	Norm     dataset.Normalization
}

// LoadModelData loads a model and its own data splits; data, when not
// empty, replaces the data set (same fraction and seed for validation).
// A cache, when not nil, shares data sets loaded for earlier models.
func LoadModelData(s *checkpoint.Store, name, data string, cache map[DataOptions]*Data) (*ModelData, error) {
	m, man, recs, err := loadModel(s, name)
	if err != nil {
		return nil, err
	}
	opt := recs.Training.Data
	if data != "" {
		opt.Spec = data
	}
	norm := recs.Normalization
	d := cache[opt]
	if d == nil {
		if d, err = LoadTrainedData(opt); err != nil {
			return nil, err
		}
		if cache != nil {
			cache[opt] = d
		}
	}
	if err := checkDataFits(m.Config, d.Test, len(d.Set.Classes), name, opt.Spec); err != nil {
		return nil, err
	}
	return &ModelData{Model: m, Manifest: man, Data: d, Spec: opt.Spec, Norm: norm}, nil
}
