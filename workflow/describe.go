package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/vit"
)

// ModelSummary is one row of `store ls`.
type ModelSummary struct {
	Name         string   `json:"name"`
	Variant      string   `json:"variant"`
	Status       string   `json:"status"`
	Data         string   `json:"data"`
	Blocks       int      `json:"blocks"`
	Dim          int      `json:"dim"`
	ValAccuracy  *float64 `json:"val_accuracy,omitempty"`
	TestAccuracy *float64 `json:"test_accuracy,omitempty"`
	Created      string   `json:"created"`
}

// ListModels summarises every readable manifest; broken ones are reported
// in the error without hiding the others (a manifest whose records do not
// decode is listed, its width left 0, and named in the error).
func ListModels(s *checkpoint.Store) ([]ModelSummary, error) {
	mans, err := s.List()
	errs := []error{err}
	var out []ModelSummary
	for _, m := range mans {
		cfg, cerr := modelstore.ManifestConfig(m)
		if _, rerr := modelstore.DecodeRecords(m); rerr != nil {
			errs = append(errs, rerr)
		}
		if cerr != nil {
			cfg = vit.Config{}
		}
		row := ModelSummary{Name: m.Name, Variant: m.Variant, Status: m.Status, Data: m.Data, Blocks: len(m.Blocks),
			Dim: cfg.Dim, Created: m.CreatedAt.Format("2006-01-02 15:04")}
		if v, ok := m.Metrics["val_accuracy"]; ok {
			row.ValAccuracy = &v
		}
		if v, ok := m.Metrics["test_accuracy"]; ok {
			row.TestAccuracy = &v
		}
		out = append(out, row)
	}
	return out, errors.Join(errs...)
}

// CheckManifest reports the first of a manifest's JSON fields that does not
// decode or does not fit (DecodeRecords), as one line naming the model and
// the field; nil when every field is usable.
func CheckManifest(m *checkpoint.Manifest) error {
	_, err := modelstore.DecodeRecords(m)
	return err
}

// DescribeManifest renders a manifest as tables: the model, its plan, the
// recipe that built it (if any) and its training history. A field that does
// not decode is shown as the problem it is (row "problem", the error of
// CheckManifest), never as zeros.
func DescribeManifest(m *checkpoint.Manifest) []*table.Table {
	info := &table.Table{Title: "model " + m.Name, Header: []string{"field", "value"}}
	info.Add("status", m.Status)
	if err := CheckManifest(m); err != nil {
		info.Add("problem", err.Error())
	}
	info.Add("variant", m.Variant)
	info.Add("data", m.Data)
	info.Add("created", m.CreatedAt.Format("2006-01-02 15:04:05 MST"))
	if cfg, err := modelstore.ManifestConfig(m); err == nil {
		info.Add("image", fmt.Sprintf("%dx%dx%d, patch %d", cfg.ImageHeight, cfg.ImageWidth, cfg.Channels, cfg.Patch))
		info.Add("sizes", fmt.Sprintf("dim %d, heads %d, mlp %d, depth %d, classes %d", cfg.Dim, cfg.Heads, cfg.MLP, cfg.Depth, cfg.Classes))
		if cfg.PosDim > 0 {
			info.Add("slot embedding", fmt.Sprint(cfg.PosDim))
		}
		if cfg.LayerNormEps > 0 {
			info.Add("layer norm eps", fmt.Sprint(cfg.LayerNormEps))
		}
	}
	if p, err := modelstore.ManifestPreprocess(m); err == nil && p != nil {
		info.Add("preprocess", fmt.Sprintf("%dx%dx%d, resize %s, crop_pct %g, %s; training: random crops scale %g..%g, ratio %.3g..%.3g, flips %g",
			p.Height, p.Width, p.Channels, p.Resize, p.CropPct, p.Interpolation, p.Scale[0], p.Scale[1], p.Ratio[0], p.Ratio[1], p.FlipP))
	}
	if tr, err := modelstore.ManifestTraining(m); err == nil && tr.ImportedFrom != "" {
		info.Add("imported from", fmt.Sprintf("%s (%s)", tr.ImportedFrom, tr.Format))
		if len(tr.Labels) > 0 {
			info.Add("labels", describeLabels(tr.Labels))
		}
	}
	info.Add("seed", fmt.Sprint(m.Seed))
	if m.Parent != "" {
		info.Add("parent", m.Parent)
	}
	if len(m.Normalization) > 0 {
		info.Add("normalization", string(m.Normalization))
	}
	for _, k := range slices.Sorted(maps.Keys(m.Metrics)) {
		info.Add(k, formatMetric(k, m.Metrics[k]))
	}
	plan := &table.Table{Title: "plan", Header: []string{"slot", "source", "block", "blob"}}
	plan.Add("stem", m.Stem.Source, "-", short(m.Stem.Blob))
	for i, b := range m.Blocks {
		plan.Add(fmt.Sprint(i), b.Source, fmt.Sprint(b.Index), short(b.Blob))
	}
	plan.Add("head", m.Head.Source, "-", short(m.Head.Blob))
	tables := []*table.Table{info, plan}
	if r := DescribeRecipe(m.Recipe); r != nil {
		tables = append(tables, r)
	}
	if history, err := modelstore.ManifestHistory(m); err == nil && len(history) > 0 {
		h := &table.Table{Title: "training history", Header: []string{"epoch", "train loss", "train acc", "val loss", "val acc", "img/s", "best"}}
		for _, r := range history {
			best := ""
			if r.Best {
				best = "*"
			}
			h.Add(fmt.Sprint(r.Epoch), fmt.Sprintf("%.4f", r.TrainLoss), fmt.Sprintf("%.2f%%", 100*r.TrainAcc),
				fmt.Sprintf("%.4f", r.ValLoss), fmt.Sprintf("%.2f%%", 100*r.ValAcc), fmt.Sprintf("%.0f", r.ImagesPerSec), best)
		}
		tables = append(tables, h)
	}
	return tables
}

// describeLabels lists the first class names and how many there are.
func describeLabels(labels []string) string {
	const show = 10
	if len(labels) <= show {
		return strings.Join(labels, ", ")
	}
	return fmt.Sprintf("%s, ... (%d classes)", strings.Join(labels[:show], ", "), len(labels))
}

// formatMetric shows accuracies as percentages and counts as integers.
func formatMetric(name string, v float64) string {
	switch {
	case strings.HasSuffix(name, "accuracy"):
		return fmt.Sprintf("%.2f%%", 100*v)
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return fmt.Sprintf("%d", int64(v))
	}
	return fmt.Sprintf("%.4f", v)
}

// DescribeRecipe renders the recipe stored with a model, nil when the
// manifest has none: a merge's record and a prune's recipe describe
// themselves (merge.Record.Describe, prune.Recipe.Describe); any other
// recipe shows key by key as compact JSON.
func DescribeRecipe(raw json.RawMessage) *table.Table {
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return nil
	}
	if r, err := modelstore.DecodeRecipe(raw); err == nil && r != nil {
		switch {
		case r.Merge != nil:
			return r.Merge.Describe()
		case r.Prune != nil:
			return r.Prune.Describe()
		}
	}
	return describeOtherRecipe(raw)
}

// describeOtherRecipe lists a recipe's top-level keys in order; a recipe
// that is not a JSON object shows whole.
func describeOtherRecipe(raw json.RawMessage) *table.Table {
	t := &table.Table{Title: "recipe", Header: []string{"field", "value"}}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) != nil {
		t.Add("recipe", table.JSONCell(raw))
		return t
	}
	for _, k := range slices.Sorted(maps.Keys(obj)) {
		field := k
		if strings.TrimSpace(k) == "" {
			field = fmt.Sprintf("%q", k) // a blank key still shows
		}
		t.Add(field, table.JSONCell(obj[k]))
	}
	return t
}

func short(digest string) string {
	d := strings.TrimPrefix(digest, "sha256:")
	if len(d) > 12 {
		d = d[:12]
	}
	return d
}
