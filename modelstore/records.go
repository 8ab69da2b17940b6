package modelstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/prune"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// The JSON fields of a manifest (config, normalization, training, history,
// recipe) are owned by this package; the store only checks that they are
// valid JSON. They are decoded and checked here and nowhere else, one
// function per field, so that a field that does not decode, or decodes to
// values nothing can run with, is always the same one-line error naming the
// model and the field, and never silently replaced by defaults.
//
// The records the program computes with (config, normalization, training)
// are decoded strictly: an unknown field is an error, since a misspelt
// "val_frac" would otherwise quietly become 0. History and recipe are
// reports, decoded without that rule, so a report field renamed by a later
// version does not make an old model unusable; a value of the wrong type is
// still an error.

// Records are a manifest's JSON fields, decoded and checked.
type Records struct {
	Config        vit.Config
	Normalization dataset.Normalization
	Training      TrainingRecord // the zero record (Data.Spec from the manifest) when the manifest has none
	History       []trainer.EpochRecord
	Recipe        *Recipe // nil when the manifest has none
	// Preprocess is how full-size images become the model's inputs (an
	// imported checkpoint's preprocessing, or that of a model fine-tuned on
	// full-size images); nil when the manifest has none.
	Preprocess *dataset.Preprocess
}

// TrainingRecord is stored in the manifest so a model can be retrained or
// evaluated on exactly its own splits.
type TrainingRecord struct {
	Options trainer.Options `json:"options"`
	Data    DataOptions     `json:"data"`
	Init    string          `json:"init,omitempty"`
	Params  int             `json:"params"`
	// ImportedFrom is the file an imported model came from; such a model
	// has no options and trained on no split of ours.
	ImportedFrom string `json:"imported_from,omitempty"`
	// Format is the layout an imported model came in (timm, hf), Labels its
	// class names when the checkpoint names them.
	Format string   `json:"format,omitempty"`
	Labels []string `json:"labels,omitempty"`
}

// Recipe is how a model was made from others: a merge's record or a prune's.
type Recipe struct {
	Merge *merge.Record
	Prune *prune.Recipe
}

// ManifestError is a manifest field that does not decode or does not fit.
type ManifestError struct {
	Model, Field string
	Err          error
}

func (e *ManifestError) Error() string {
	return fmt.Sprintf("model %s: manifest field %s: %v", e.Model, e.Field, e.Err)
}

func (e *ManifestError) Unwrap() error { return e.Err }

func fieldError(man *checkpoint.Manifest, field string, err error) error {
	return &ManifestError{Model: man.Name, Field: field, Err: err}
}

// DecodeRecords decodes and checks every JSON field of a manifest; the first
// bad one is the error. Every use of a stored model goes through it
// (LoadModel calls it before reading a blob).
func DecodeRecords(man *checkpoint.Manifest) (*Records, error) {
	var r Records
	var err error
	if r.Config, err = ManifestConfig(man); err != nil {
		return nil, err
	}
	if r.Normalization, err = ManifestNormalization(man, r.Config.Channels); err != nil {
		return nil, err
	}
	if r.Training, err = ManifestTraining(man); err != nil {
		return nil, err
	}
	if r.History, err = ManifestHistory(man); err != nil {
		return nil, err
	}
	if r.Recipe, err = ManifestRecipe(man); err != nil {
		return nil, err
	}
	if r.Preprocess, err = ManifestPreprocess(man); err != nil {
		return nil, err
	}
	return &r, nil
}

// ManifestPreprocess is the full-size preprocessing stored with a model, or nil.
func ManifestPreprocess(man *checkpoint.Manifest) (*dataset.Preprocess, error) {
	if absent(man.Preprocess) {
		return nil, nil
	}
	var p dataset.Preprocess
	if err := decodeStrict(man.Preprocess, &p); err != nil {
		return nil, fieldError(man, "preprocess", err)
	}
	if err := p.Validate(); err != nil {
		return nil, fieldError(man, "preprocess", err)
	}
	return &p, nil
}

// ManifestConfig is the model's config, which must be present and valid.
func ManifestConfig(man *checkpoint.Manifest) (vit.Config, error) {
	var c vit.Config
	if absent(man.Config) {
		return c, fieldError(man, "config", errors.New("missing"))
	}
	if err := decodeStrict(man.Config, &c); err != nil {
		return c, fieldError(man, "config", err)
	}
	if err := c.Validate(); err != nil {
		return c, fieldError(man, "config", err)
	}
	return c, nil
}

// DescribeConfig is a config in one line, for errors.
func DescribeConfig(c vit.Config) string {
	return fmt.Sprintf("%s, %dx%dx%d, patch %d, dim %d, heads %d, mlp %d, depth %d, classes %d", c.Variant,
		c.ImageHeight, c.ImageWidth, c.Channels, c.Patch, c.Dim, c.Heads, c.MLP, c.Depth, c.Classes)
}

// ManifestNormalization is the input normalisation stored with a model of
// the given number of channels: present, one finite mean and one positive
// finite std per channel.
func ManifestNormalization(man *checkpoint.Manifest, channels int) (dataset.Normalization, error) {
	var n dataset.Normalization
	if absent(man.Normalization) {
		return n, fieldError(man, "normalization", errors.New("missing (every model needs the mean and std of its training images)"))
	}
	if err := decodeStrict(man.Normalization, &n); err != nil {
		return n, fieldError(man, "normalization", err)
	}
	if err := n.Check(channels); err != nil {
		return n, fieldError(man, "normalization", err)
	}
	return n, nil
}

// ManifestTraining is the record of how the model was trained (or where it
// was imported from). A manifest without one gives the zero record; either
// way Data.Spec is the manifest's data set when the record does not name one.
func ManifestTraining(man *checkpoint.Manifest) (TrainingRecord, error) {
	var r TrainingRecord
	if !absent(man.Training) {
		if err := decodeStrict(man.Training, &r); err != nil {
			return TrainingRecord{}, fieldError(man, "training", err)
		}
		if err := r.Data.check(); err != nil {
			return TrainingRecord{}, fieldError(man, "training", err)
		}
	}
	if r.Data.Spec == "" {
		r.Data.Spec = man.Data
	}
	return r, nil
}

// check refuses data options no training can have had.
func (o DataOptions) check() error {
	switch {
	case math.IsNaN(o.ValFrac) || o.ValFrac < 0 || o.ValFrac >= 1:
		return fmt.Errorf("data.val_frac is %v, want 0 <= val_frac < 1", o.ValFrac)
	case o.Limit < 0:
		return fmt.Errorf("data.limit is %d, want >= 0", o.Limit)
	case !o.Preprocess.IsZero():
		if err := o.Preprocess.Validate(); err != nil {
			return fmt.Errorf("data.preprocess: %v", err)
		}
	}
	return nil
}

// ManifestHistory is the per-epoch training history (nil when none).
func ManifestHistory(man *checkpoint.Manifest) ([]trainer.EpochRecord, error) {
	var h []trainer.EpochRecord
	if absent(man.History) {
		return nil, nil
	}
	if err := decodeLenient(man.History, &h); err != nil {
		return nil, fieldError(man, "history", err)
	}
	return h, nil
}

// ManifestRecipe is the recipe that made the model, nil when none: a
// merge's record (it has a "method") or a prune's (its "kind" is "prune").
func ManifestRecipe(man *checkpoint.Manifest) (*Recipe, error) {
	r, err := DecodeRecipe(man.Recipe)
	if err != nil {
		return nil, fieldError(man, "recipe", err)
	}
	return r, nil
}

// DecodeRecipe decodes a manifest's recipe field (nil, nil when it is
// empty); ManifestRecipe is this error naming the model and the field.
func DecodeRecipe(raw json.RawMessage) (*Recipe, error) {
	if absent(raw) {
		return nil, nil
	}
	var kind struct {
		Method any `json:"method"`
		Kind   any `json:"kind"`
	}
	if err := decodeLenient(raw, &kind); err != nil {
		return nil, err
	}
	switch {
	case kind.Method != nil:
		var rec merge.Record
		if err := decodeLenient(raw, &rec); err != nil {
			return nil, err
		}
		if rec.Method == "" {
			return nil, errors.New(`a merge record with an empty "method"`)
		}
		return &Recipe{Merge: &rec}, nil
	case kind.Kind == "prune":
		var rec prune.Recipe
		if err := decodeLenient(raw, &rec); err != nil {
			return nil, err
		}
		return &Recipe{Prune: &rec}, nil
	}
	return nil, errors.New(`neither a merge's record (with a "method") nor a prune's (with "kind": "prune")`)
}

// absent is an empty or null field.
func absent(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// decodeStrict decodes one JSON value into v: unknown fields, a value of the
// wrong type and trailing data are errors.
func decodeStrict(raw json.RawMessage, v any) error {
	return decodeJSON(raw, v, true)
}

// decodeLenient is decodeStrict that ignores unknown fields.
func decodeLenient(raw json.RawMessage, v any) error {
	return decodeJSON(raw, v, false)
}

func decodeJSON(raw json.RawMessage, v any, strict bool) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return cleanJSONError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

// cleanJSONError drops encoding/json's Go type names where it can, so the
// message talks about the file: `json: cannot unmarshal string into Go
// struct field Config.dim of type int` becomes `dim is a string, want a
// number`.
func cleanJSONError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		what := "the value"
		if te.Field != "" {
			what = jsonPath(te.Field)
		}
		want := jsonKind(te.Type.Kind().String())
		if want == "number" && strings.HasPrefix(te.Value, "number") {
			return fmt.Errorf("%s is %s, which does not fit a Go %s", what, te.Value, te.Type)
		}
		return fmt.Errorf("%s is a JSON %s, want %s", what, te.Value, withArticle(want))
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}

// jsonPath drops the names of embedded Go structs (upper case, as no JSON
// name of ours is) from encoding/json's field path: "Result.kept" is "kept".
func jsonPath(field string) string {
	parts := strings.Split(field, ".")
	for len(parts) > 1 && parts[0] != "" && parts[0][0] >= 'A' && parts[0][0] <= 'Z' {
		parts = parts[1:]
	}
	return strings.Join(parts, ".")
}

func withArticle(noun string) string {
	if strings.IndexByte("aeiou", noun[0]) >= 0 {
		return "an " + noun
	}
	return "a " + noun
}

// jsonKind names a Go kind as JSON would.
func jsonKind(goKind string) string {
	switch goKind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64", "float32", "float64":
		return "number"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "array"
	case "bool":
		return "boolean"
	}
	return goKind
}
