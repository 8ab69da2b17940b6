package modelstore

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

// PartTensors turns a part's parameters into store tensors (no copy).
func PartTensors(params []*vit.Param) checkpoint.Tensors {
	ts := checkpoint.Tensors{}
	for _, p := range params {
		ts[p.Name] = checkpoint.Tensor{Shape: p.Shape, Data: p.Data()}
	}
	return ts
}

// PutWeights stores the stem, every block of m and the head as blobs and
// points the manifest at them; blocks that came from another model keep
// their source, so a Frankenstein model adds no weight bytes.
func PutWeights(s *checkpoint.Store, m *vit.Model, man *checkpoint.Manifest) error {
	cfg, err := json.Marshal(m.Config)
	if err != nil {
		return err
	}
	man.Config = cfg
	man.Variant = string(m.Config.Variant)
	if man.Stem.Blob, err = s.PutBlob(PartTensors(m.Stem.Params())); err != nil {
		return err
	}
	man.Stem.Source = m.Name
	man.Blocks = man.Blocks[:0]
	for _, b := range m.Blocks {
		digest, err := s.PutBlob(PartTensors(b.Params()))
		if err != nil {
			return err
		}
		man.Blocks = append(man.Blocks, checkpoint.PartRef{Blob: digest, Source: b.Source, Index: b.Index})
	}
	if man.Head.Blob, err = s.PutBlob(PartTensors(m.Head.Params())); err != nil {
		return err
	}
	man.Head.Source = m.Name
	return nil
}

// Stored is a model read from the store: the model (its Blocks are the
// manifest's plan, in execution order), its manifest and the manifest's
// decoded records.
type Stored struct {
	Model    *vit.Model
	Manifest *checkpoint.Manifest
	Records  *Records
}

// Load reads a model and its plan from the store. The manifest's JSON
// fields are decoded and checked (DecodeRecords) before any blob is read,
// so a manifest that cannot be used is one error naming the model and the
// field.
func Load(s *checkpoint.Store, name string) (*Stored, error) {
	var man *checkpoint.Manifest
	var recs *Records
	var stem, head checkpoint.Tensors
	var blocks []checkpoint.Tensors
	// The manifest and its blobs under one shared lock: a concurrent Replace
	// and gc cannot delete blobs between reading one and the other.
	err := s.WithSharedLock(func() error {
		var err error
		if man, err = s.Get(name); err != nil {
			return err
		}
		if recs, err = DecodeRecords(man); err != nil {
			return err
		}
		stem, blocks, head, err = s.LoadParts(man)
		return err
	})
	if err != nil {
		return nil, err
	}
	cfg := recs.Config
	if err := configFits(cfg, stem, head); err != nil {
		return nil, fieldError(man, "config", err)
	}
	m, err := vit.NewModel(name, cfg)
	if err != nil {
		return nil, fmt.Errorf("model %s: %v", name, err)
	}
	problems := FillParams("stem", m.Stem.Params(), stem)
	problems = append(problems, FillParams("head", m.Head.Params(), head)...)
	m.Blocks = m.Blocks[:0]
	for i, ts := range blocks {
		ref := man.Blocks[i]
		b := vit.NewBlock(BlockSpec(cfg, ts), ref.Source, ref.Index)
		problems = append(problems, FillParams(fmt.Sprintf("block %d (%s[%d])", i, ref.Source, ref.Index), b.Params(), ts)...)
		m.Blocks = append(m.Blocks, b)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("model %s: %s", name, strings.Join(problems, "; "))
	}
	return &Stored{Model: m, Manifest: man, Records: recs}, nil
}

// configFits checks the config's sizes against the stored stem and head
// before a model of that config is allocated, so a config that does not
// describe the stored weights says so in its own terms. Blocks are checked
// by FillParams.
func configFits(cfg vit.Config, stem, head checkpoint.Tensors) error {
	want := []struct {
		part, name string
		shape      []int
	}{
		{"stem", "patch_embed.proj.weight", []int{cfg.Dim, cfg.Channels, cfg.Patch, cfg.Patch}},
		{"stem", "pos_embed", []int{1, cfg.Tokens(), cfg.Dim}},
		{"head", "head.weight", []int{cfg.Classes, cfg.Dim}},
	}
	if cfg.Variant.HasPositionProjection() {
		want = append(want, struct {
			part, name string
			shape      []int
		}{"stem", "layer_pos_embed", []int{cfg.Depth, cfg.PosDim}})
	}
	for _, w := range want {
		ts := stem
		if w.part == "head" {
			ts = head
		}
		t, ok := ts[w.name]
		if !ok {
			return fmt.Errorf("the stored %s has no %s", w.part, w.name)
		}
		if !slices.Equal(t.Shape, w.shape) {
			return fmt.Errorf("%s is %v in the stored %s, but the config gives %v (%s)", w.name, t.Shape, w.part, w.shape, DescribeConfig(cfg))
		}
	}
	return nil
}

// BlockSpec reads a stored block's optional parts from its tensor shapes;
// the widths come from the model's config and are checked by LoadPart.
func BlockSpec(cfg vit.Config, ts checkpoint.Tensors) vit.BlockSpec {
	spec := vit.BlockSpec{Dim: cfg.Dim, Heads: cfg.Heads, MLP: cfg.MLP}
	if t, ok := ts["mlp.fc1.weight"]; ok && len(t.Shape) == 2 {
		spec.MLP = t.Shape[0]
	}
	if t, ok := ts["pos_proj.fc.weight"]; ok && len(t.Shape) == 2 {
		spec.PosDim = t.Shape[1] - cfg.Dim
	}
	if t, ok := ts["pos_head.fc.weight"]; ok && len(t.Shape) == 2 {
		spec.Slots = t.Shape[0]
	}
	return spec
}

// Normalization reads and checks the normalisation stored with a model.
func Normalization(man *checkpoint.Manifest) (dataset.Normalization, error) {
	cfg, err := ManifestConfig(man)
	if err != nil {
		return dataset.Normalization{}, err
	}
	return ManifestNormalization(man, cfg.Channels)
}

// FillParams copies tensors into params, from the store or an imported file,
// reporting every missing, extra or mis-shaped tensor.
func FillParams(part string, params []*vit.Param, ts checkpoint.Tensors) []string {
	var problems []string
	seen := map[string]bool{}
	for _, p := range params {
		seen[p.Name] = true
		t, ok := ts[p.Name]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s: missing %s", part, p.Name))
		case !slices.Equal(t.Shape, p.Shape):
			problems = append(problems, fmt.Sprintf("%s: %s has shape %v, want %v", part, p.Name, t.Shape, p.Shape))
		default:
			copy(p.Data(), t.Data)
		}
	}
	for _, name := range sortedNames(ts) {
		if !seen[name] {
			problems = append(problems, fmt.Sprintf("%s: unexpected %s", part, name))
		}
	}
	return problems
}

func sortedNames(ts checkpoint.Tensors) []string {
	names := make([]string, 0, len(ts))
	for k := range ts {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}
