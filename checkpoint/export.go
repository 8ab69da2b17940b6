package checkpoint

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/internal/durable"
)

// blockPrefix is timm's name prefix for the tensors of block i.
func blockPrefix(i int) string { return "blocks." + strconv.Itoa(i) + "." }

// Metadata keys of an exported file.
const (
	MetaFormat        = "format"          // always "pt", as timm and transformers expect
	MetaName          = "frankenvit_name" // the exported model
	MetaConfig        = "config"          // Manifest.Config
	MetaNormalization = "normalization"   // Manifest.Normalization
	MetaPlan          = "plan"            // [{"source":..,"index":..}] per block, in execution order
	MetaVariant       = "variant"
	MetaData          = "data"
	MetaSeed          = "seed"
)

// planEntry is one block of the exported plan.
type planEntry struct {
	Source string `json:"source,omitempty"`
	Index  int    `json:"index"`
}

// Export writes the model as one plain (uncompressed) safetensors file with
// timm's names: stem and head tensors keep theirs, and block i of the plan
// (in execution order) gets the prefix "blocks.{i}.". The metadata carries
// what Import needs to rebuild the manifest. The file appears atomically.
func (s *Store) Export(name, path string) error {
	var m *Manifest
	var stem, head Tensors
	var blocks []Tensors
	// One shared hold across the manifest and its blobs, so that a
	// concurrent Replace and gc cannot pull the blobs away in between.
	unlock, err := s.lockShared(true)
	if err != nil {
		return err
	}
	m, err = s.Get(name)
	if err == nil {
		stem, blocks, head, err = s.LoadParts(m)
	}
	unlock()
	if err != nil {
		return err
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("store: export %s to %s: %s", name, path, fmt.Sprintf(format, args...))
	}
	all := Tensors{}
	add := func(part, tensorName string, t Tensor) error {
		if _, dup := all[tensorName]; dup {
			return fail("tensor %q of the %s clashes with another part's tensor", tensorName, part)
		}
		all[tensorName] = t
		return nil
	}
	for _, tn := range sortedNames(stem) {
		if err := add("stem", tn, stem[tn]); err != nil {
			return err
		}
	}
	for i, block := range blocks {
		for _, tn := range sortedNames(block) {
			if err := add(fmt.Sprintf("block %d", i), blockPrefix(i)+tn, block[tn]); err != nil {
				return err
			}
		}
	}
	for _, tn := range sortedNames(head) {
		if err := add("head", tn, head[tn]); err != nil {
			return err
		}
	}
	plan := make([]planEntry, len(m.Blocks))
	for i, b := range m.Blocks {
		plan[i] = planEntry{Source: b.Source, Index: b.Index}
	}
	planJSON, _ := json.Marshal(plan)
	meta := map[string]string{
		MetaFormat:  "pt",
		MetaName:    m.Name,
		MetaPlan:    string(planJSON),
		MetaVariant: m.Variant,
		MetaData:    m.Data,
		MetaSeed:    strconv.FormatUint(m.Seed, 10),
	}
	if len(m.Config) > 0 {
		meta[MetaConfig] = string(compactJSON(m.Config))
	}
	if len(m.Normalization) > 0 {
		meta[MetaNormalization] = string(compactJSON(m.Normalization))
	}
	err = durable.Write(path, func(w io.Writer) error { return WriteSafetensors(w, all, meta) })
	if err != nil {
		return fail("%s", strings.TrimPrefix(err.Error(), "checkpoint: "))
	}
	return nil
}

// SplitExported is the inverse of Export's naming: "blocks.{i}.*" tensors
// form block i (prefix removed), "norm.*", "fc_norm.*" and "head.*" form the
// head, and everything else the stem. Block indices must run 0..n-1.
func SplitExported(ts Tensors) (stem Tensors, blocks []Tensors, head Tensors, err error) {
	stem, head = Tensors{}, Tensors{}
	byIndex := map[int]Tensors{}
	for name, t := range ts {
		if rest, ok := strings.CutPrefix(name, "blocks."); ok {
			idx, tensorName, ok := strings.Cut(rest, ".")
			i, convErr := strconv.Atoi(idx)
			if !ok || convErr != nil || i < 0 || tensorName == "" || strconv.Itoa(i) != idx {
				return nil, nil, nil, fmt.Errorf("checkpoint: tensor %q: expected blocks.<index>.<name>", name)
			}
			if byIndex[i] == nil {
				byIndex[i] = Tensors{}
			}
			byIndex[i][tensorName] = t
			continue
		}
		if strings.HasPrefix(name, "norm.") || strings.HasPrefix(name, "fc_norm.") || strings.HasPrefix(name, "head.") {
			head[name] = t
		} else {
			stem[name] = t
		}
	}
	indices := make([]int, 0, len(byIndex))
	for i := range byIndex {
		indices = append(indices, i)
	}
	sort.Ints(indices)
	for want, i := range indices {
		if i != want {
			return nil, nil, nil, fmt.Errorf("checkpoint: block %d is missing (found blocks up to %d)", want, indices[len(indices)-1])
		}
		blocks = append(blocks, byIndex[i])
	}
	if len(stem) == 0 || len(head) == 0 {
		return nil, nil, nil, errors.New("checkpoint: need stem tensors (patch_embed.*, cls_token, pos_embed) and head tensors (norm.*, head.*)")
	}
	return stem, blocks, head, nil
}

// Import stores a safetensors file written by Export (or any file with
// timm's names and a "config" entry in its metadata) as a new model. The
// parts become blobs (shared with any identical part already stored) and
// the manifest records the new model as the source of every block. The
// blobs and the manifest are written under one shared lock.
func (s *Store) Import(path, name string) (*Manifest, error) {
	if err := ValidName(name); err != nil {
		return nil, err
	}
	unlock, err := s.lockShared(false)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if s.Exists(name) {
		return nil, fmt.Errorf("store: model %s %w in %s", name, ErrExists, s.Dir)
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("store: import %s as %s: %s", path, name, fmt.Sprintf(format, args...))
	}
	ts, meta, err := ReadSafetensorsFile(path)
	if err != nil {
		return nil, fail("%s", strings.TrimPrefix(err.Error(), "checkpoint: "))
	}
	config := meta[MetaConfig]
	if config == "" || !json.Valid([]byte(config)) {
		return nil, fail("the metadata has no valid %q entry (the model config that frankenvit exports carry)", MetaConfig)
	}
	stem, blocks, head, err := SplitExported(ts)
	if err != nil {
		return nil, fail("%s", strings.TrimPrefix(err.Error(), "checkpoint: "))
	}
	m := &Manifest{FormatVersion: ManifestFormatVersion, Name: name, Status: "complete", Variant: meta[MetaVariant],
		Config: json.RawMessage(config), Data: meta[MetaData]}
	if norm := meta[MetaNormalization]; norm != "" {
		if !json.Valid([]byte(norm)) {
			return nil, fail("the %q metadata is not valid JSON", MetaNormalization)
		}
		m.Normalization = json.RawMessage(norm)
	}
	if seed := meta[MetaSeed]; seed != "" {
		if m.Seed, err = strconv.ParseUint(seed, 10, 64); err != nil {
			return nil, fail("the %q metadata %q is not an unsigned integer", MetaSeed, seed)
		}
	}
	if m.Stem.Blob, err = s.PutBlob(stem); err != nil {
		return nil, err
	}
	m.Stem.Source = name
	for i, b := range blocks {
		digest, err := s.PutBlob(b)
		if err != nil {
			return nil, err
		}
		m.Blocks = append(m.Blocks, PartRef{Blob: digest, Source: name, Index: i})
	}
	if m.Head.Blob, err = s.PutBlob(head); err != nil {
		return nil, err
	}
	m.Head.Source = name
	if err := s.Create(m); err != nil {
		return nil, err
	}
	return m, nil
}
