package modelstore

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

// DataOptions say which data a model trains and evaluates on.
type DataOptions struct {
	Spec    string  `json:"data"`
	ValFrac float64 `json:"val_frac"`
	ValSeed uint64  `json:"val_seed"` // the validation split's own seed, shared by a population
	Limit   int     `json:"limit,omitempty"`
	// Tasks, for a multi-task model, lists its tasks (data specs) joined by
	// commas; Spec is then one of them (that task alone, its labels offset
	// into the task's head rows) or their PoolSpec (every task's images).
	Tasks string `json:"tasks,omitempty"`
	// Preprocess, when not zero, reads folder:DIR data at full size, decoded
	// from disk as it is used (dataset.OpenFolder), into the model's input
	// size; the zero value reads data sets into memory as they are.
	// A value, not a pointer, so that equal options compare equal (merges
	// check their sources' data by ==, and the options are map keys).
	Preprocess dataset.Preprocess `json:"preprocess,omitzero"`
}

// TaskList is the tasks of a multi-task model's data (nil for one task).
func (o DataOptions) TaskList() []string {
	if o.Tasks == "" {
		return nil
	}
	return strings.Split(o.Tasks, ",")
}

// TaskData is the data of task k of the tasks: that task alone, with the
// tasks' numbering of labels.
func TaskData(o DataOptions, tasks []string, k int) DataOptions {
	o.Spec, o.Tasks = tasks[k], strings.Join(tasks, ",")
	return o
}

// PooledData is the data of every task pooled.
func PooledData(o DataOptions, tasks []string) DataOptions {
	o.Spec, o.Tasks = dataset.PoolSpec(tasks), strings.Join(tasks, ",")
	return o
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
	if o.Tasks != "" {
		return loadTaskData(o, testLimit)
	}
	set, err := loadSet(o)
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

// loadSet reads the data set: in memory, or, with a preprocessing, a folder
// of full-size images decoded as they are used.
func loadSet(o DataOptions) (*dataset.Dataset, error) {
	if o.Preprocess.IsZero() {
		return dataset.Load(o.Spec)
	}
	dir, ok := FullSizeFolder(o.Spec)
	if !ok {
		return nil, fmt.Errorf("data %s: full-size preprocessing (an image size, or a pretrained model's) applies to folder:DIR data only", o.Spec)
	}
	set, err := dataset.OpenFolder(dir, o.Preprocess)
	if err != nil {
		return nil, err
	}
	set.Name = o.Spec
	return set, nil
}

// FullSizeFolder reports whether spec is folder:DIR without transforms, the
// data that can be read at full size, and its directory.
func FullSizeFolder(spec string) (dir string, ok bool) {
	parsed, err := dataset.ParseDataSpec(spec)
	if err != nil || len(parsed.Transforms) > 0 {
		return "", false
	}
	return strings.CutPrefix(parsed.Base, "folder:")
}

// loadTaskData loads the data of a multi-task model: one task carved as a
// training on it alone carves it (--limit, --val-frac and --val-seed apply
// to the task's own images) with its labels offset by k*C, or every task so
// carved and pooled, so the validation split of the pool is the union of
// the tasks' own validation splits, and a child fine-tuned on one task
// validates on the very images its parent validated that task on.
func loadTaskData(o DataOptions, testLimit int) (*Data, error) {
	tasks := o.TaskList()
	single := func(spec string) (*Data, error) {
		one := o
		one.Spec, one.Tasks = spec, ""
		return loadData(one, testLimit)
	}
	if k := slices.Index(tasks, o.Spec); k >= 0 {
		d, err := single(o.Spec)
		if err != nil {
			return nil, err
		}
		C := len(d.Set.Classes)
		if C*len(tasks) > dataset.MaxPooledClasses {
			return nil, fmt.Errorf("%d tasks of %d classes: at most %d classes in all", len(tasks), C, dataset.MaxPooledClasses)
		}
		for _, sp := range []**dataset.Split{&d.Train, &d.Val, &d.Test} {
			if *sp, err = dataset.OffsetLabels(*sp, k*C); err != nil {
				return nil, err
			}
		}
		names := make([][]string, len(tasks))
		for j := range tasks {
			if j == k {
				names[j] = d.Set.Classes
				continue
			}
			for i := 0; i < C; i++ {
				names[j] = append(names[j], fmt.Sprint(i))
			}
		}
		d.Set.Classes, d.Set.Name = dataset.PooledClassNames(tasks, names), o.Spec
		return d, nil
	}
	if o.Spec != dataset.PoolSpec(tasks) {
		return nil, fmt.Errorf("data %s is neither one of the tasks %s nor their pool %s", o.Spec, o.Tasks, dataset.PoolSpec(tasks))
	}
	var train, val, test []*dataset.Split
	var names [][]string
	for k, t := range tasks {
		d, err := single(t)
		if err != nil {
			return nil, fmt.Errorf("task %s: %w", t, err)
		}
		if k > 0 && len(d.Set.Classes) != len(names[0]) {
			return nil, fmt.Errorf("task %s has %d classes, task %s %d: pooled tasks need one class count", t, len(d.Set.Classes), tasks[0], len(names[0]))
		}
		train, val, test = append(train, d.Train), append(val, d.Val), append(test, d.Test)
		names = append(names, d.Set.Classes)
	}
	out := &Data{Set: &dataset.Dataset{Name: o.Spec, Classes: dataset.PooledClassNames(tasks, names)}}
	var err error
	C := len(names[0])
	if out.Train, err = dataset.Pool(tasks, train, C); err != nil {
		return nil, err
	}
	if out.Val, err = dataset.Pool(tasks, val, C); err != nil {
		return nil, err
	}
	if out.Test, err = dataset.Pool(tasks, test, C); err != nil {
		return nil, err
	}
	return out, nil
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
