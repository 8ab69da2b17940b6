package study

import (
	"bytes"
	_ "embed"
	"fmt"

	"gopkg.in/yaml.v3"
)

// Quickstart is the built-in study run by `frankenvit study` without a file.
//
//go:embed quickstart.yaml
var Quickstart []byte

// File is a study as written in YAML.
type File struct {
	Name        string       `yaml:"name"`
	Data        string       `yaml:"data"`  // default data set of every population (mnist)
	Limit       int          `yaml:"limit"` // train and test on the first N images only
	ValFrac     *float64     `yaml:"val_frac"`
	Seed        uint64       `yaml:"seed"`
	Model       ModelSpec    `yaml:"model"`  // default sizes
	Train       TrainSpec    `yaml:"train"`  // default training options
	Orders      int          `yaml:"orders"` // K of the random:K accuracy of the population tables (default 20)
	Populations []Population `yaml:"populations"`
	Merges      []Merge      `yaml:"merges"`
	Sweeps      []Sweep      `yaml:"sweeps"`
	Analyses    []Analysis   `yaml:"analyses"`
}

// ModelSpec gives sizes; zero fields take the study's (or the built-in) defaults.
type ModelSpec struct {
	Depth  int `yaml:"depth"`
	Dim    int `yaml:"dim"`
	Heads  int `yaml:"heads"`
	MLP    int `yaml:"mlp"`
	Patch  int `yaml:"patch"`
	PosDim int `yaml:"pos_dim"`
}

// TrainSpec gives training options; zero fields take the defaults.
type TrainSpec struct {
	Epochs       int     `yaml:"epochs"`
	ParentEpochs int     `yaml:"parent_epochs"`
	Batch        int     `yaml:"batch"`
	LR           float64 `yaml:"lr"`
	WeightDecay  float64 `yaml:"wd"`
	ShufflePer   string  `yaml:"shuffle_per"`
	LayerDropP   float64 `yaml:"layerdrop_p"`
	PosWeight    float64 `yaml:"pos_weight"`
	AugmentShift int     `yaml:"augment_shift"`
	// Fine-tuning: preset paper (the paper's recipe, under the fields given
	// beside it), the decay (cosine, linear), gradient accumulation, and the
	// augmentation of full-size folders (timm, none).
	Preset     string `yaml:"preset"`
	Decay      string `yaml:"decay"`
	MicroBatch int    `yaml:"micro_batch"`
	Augment    string `yaml:"augment"`
}

// Population is a parent and Size members fine-tuned from it (or
// independent members), trained with `frankenvit population`.
type Population struct {
	Name        string `yaml:"name"`
	Variant     string `yaml:"variant"`
	Size        int    `yaml:"size"`
	Independent bool   `yaml:"independent"`
	Data        string `yaml:"data"`
	// Tasks makes a multi-task population (population --tasks): one child
	// per task, PREFIX-mt and PREFIX-probe-K as references; size is then the
	// number of tasks and data does not apply.
	Tasks []string `yaml:"tasks"`
	// Parent, when set, names a stored model (an imported checkpoint, or a
	// model of an earlier population of the study) the members are
	// fine-tuned from, as population --parent; NewHead and Image are
	// --new-head and --image (HEIGHTxWIDTH: full-size folder data).
	Parent  string    `yaml:"parent"`
	NewHead bool      `yaml:"new_head"`
	Image   string    `yaml:"image"`
	Seed    *uint64   `yaml:"seed"`
	Model   ModelSpec `yaml:"model"`
	Train   TrainSpec `yaml:"train"`
}

// Merge builds stored models out of populations with `frankenvit merge`.
type Merge struct {
	Name     string   `yaml:"name"`
	Method   string   `yaml:"method"` // random | uniform-soup | greedy-soup | search | recipe:FILE
	From     []string `yaml:"from"`   // populations (their members) or models
	Count    int      `yaml:"count"`  // random: how many models
	Seed     uint64   `yaml:"seed"`
	AnyBlock bool     `yaml:"any_block"`
}

// Sweep is one `frankenvit bench orders|depth|merge|merge-methods`.
type Sweep struct {
	Kind       string   `yaml:"kind"` // orders | depth | merge | merge-methods
	Models     []string `yaml:"models"`
	Split      string   `yaml:"split"`
	Limit      int      `yaml:"limit"`
	Seed       uint64   `yaml:"seed"`
	Orders     int      `yaml:"orders"`
	Repeats    *int     `yaml:"repeats"`
	OrderBatch int      `yaml:"order_batch"`
	Strategies string   `yaml:"strategies"`
	Seeds      int      `yaml:"seeds"`
	ValLimit   int      `yaml:"val_limit"`
	References []string `yaml:"references"`
	Draws      int      `yaml:"draws"`
	AnyBlock   bool     `yaml:"any_block"`
	Methods    string   `yaml:"methods"` // merge-methods: comma-separated, or all
}

// Analysis is one `frankenvit analyze` of each model it names, with the same
// options; zero fields take the command's defaults. A population stands for
// its first member (PREFIX-0) and a merge of several models for its first
// (NAME-0): members are fine-tuned alike from one parent, so one shows what
// the recipe does, and each analysis costs as much as a sweep of one model.
// Name PREFIX-1, PREFIX-parent, ... to analyse others.
type Analysis struct {
	Models  []string `yaml:"models"`
	Orders  int      `yaml:"orders"`  // random block orders K (default 2 x depth)
	Limit   *int     `yaml:"limit"`   // the first N images of the split (default 2000; 0 = all)
	Split   string   `yaml:"split"`   // val (default) | test | train
	Feature string   `yaml:"feature"` // mean (default) | cls
	Seed    uint64   `yaml:"seed"`
}

// Parse reads a study file strictly: an unknown key is an error (a typo
// should not silently fall back to a default).
func Parse(data []byte, name string) (*File, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f File
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("study %s: %v", name, err)
	}
	var extra any
	if err := dec.Decode(&extra); err == nil {
		return nil, fmt.Errorf("study %s: more than one YAML document", name)
	}
	return &f, nil
}
