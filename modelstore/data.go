package modelstore

import (
	"fmt"
	"math"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

// DataOptions say which data a model trains and evaluates on.
type DataOptions struct {
	Spec    string  `json:"data"`
	ValFrac float64 `json:"val_frac"`
	ValSeed uint64  `json:"val_seed"` // the validation split's own seed, shared by a population
	Limit   int     `json:"limit,omitempty"`
}

// Data is a loaded data set cut into train, validation and test splits.
type Data struct {
	Set              *dataset.Dataset // name and classes; its Train and Test are nil
	Train, Val, Test *dataset.Split
}

// LoadData reads the data set and carves the splits as a training with
// options o does: Limit, when positive, keeps the first Limit training
// images (before the validation split is carved) and the first Limit test
// images.
func LoadData(o DataOptions) (*Data, error) { return loadData(o, o.Limit) }

// LoadTrainedData carves the data of a stored model (o is its training's
// options) for measuring it: the training and validation splits exactly as
// its training carved them (the same limit, fraction and seed, so the
// validation split holds the very images validated on during training), and
// the test split whole. A training's --limit is no limit on measuring the
// model: a command limits the test split with its own --limit.
func LoadTrainedData(o DataOptions) (*Data, error) { return loadData(o, 0) }

// loadData carves o's training and validation splits, and keeps the first
// testLimit test images (all for testLimit <= 0).
func loadData(o DataOptions, testLimit int) (*Data, error) {
	if math.IsNaN(o.ValFrac) || o.ValFrac < 0 || o.ValFrac >= 1 {
		return nil, fmt.Errorf("--val-frac must be in [0, 1), got %g", o.ValFrac)
	}
	if o.Limit < 0 {
		return nil, fmt.Errorf("--limit must not be negative, got %d", o.Limit)
	}
	set, err := dataset.Load(o.Spec)
	if err != nil {
		return nil, err
	}
	train, test := set.Train.Limit(o.Limit), set.Test.Limit(testLimit)
	rest, val, err := dataset.SplitValidation(train, o.ValFrac, o.ValSeed)
	if err != nil {
		return nil, err
	}
	// The data set keeps its name and classes but not its full splits:
	// training and validation are copies, and holding the original
	// training images too would double the resident set of a training.
	meta := *set
	meta.Train, meta.Test = nil, nil
	return &Data{Set: &meta, Train: rest, Val: val, Test: test}, nil
}

// Split picks "train", "val" or "test".
func (d *Data) Split(name string) (*dataset.Split, error) {
	switch name {
	case "test":
		return d.Test, nil
	case "val":
		return d.Val, nil
	case "train":
		return d.Train, nil
	}
	return nil, fmt.Errorf("bad --split %q: want test, val or train", name)
}

// CheckDataFits refuses images of another size or channel count than the
// model's, or more classes than it predicts, which would otherwise be read
// out of bounds.
func CheckDataFits(c vit.Config, s *dataset.Split, classes int, model, spec string) error {
	if s.C != c.Channels || s.H != c.ImageHeight || s.W != c.ImageWidth {
		return fmt.Errorf("data %s has %dx%dx%d images, model %s expects %dx%dx%d", spec, s.H, s.W, s.C, model,
			c.ImageHeight, c.ImageWidth, c.Channels)
	}
	if classes > c.Classes {
		return fmt.Errorf("data %s has %d classes, model %s predicts %d", spec, classes, model, c.Classes)
	}
	return nil
}
