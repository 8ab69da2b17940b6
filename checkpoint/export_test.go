package checkpoint

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestExportUsesTimmNames(t *testing.T) {
	s := newTestStore(t)
	a := createModel(t, s, "a", 1, 3)
	b := createModel(t, s, "b", 2, 3)
	// A Frankenstein plan: b's block 2, then a's block 0, then a's block 0 again.
	frank := &Manifest{Name: "frank", Status: "complete", Variant: "shuffle", Config: a.Config, Data: "mnist",
		Normalization: a.Normalization, Stem: a.Stem, Head: a.Head,
		Blocks: []PartRef{b.Blocks[2], a.Blocks[0], a.Blocks[0]}}
	if err := s.Create(frank); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "frank.safetensors")
	if err := s.Export("frank", path); err != nil {
		t.Fatal(err)
	}
	ts, meta, err := ReadSafetensorsFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Tensors{}
	for name, tt := range stemPart(1) {
		want[name] = tt
	}
	for name, tt := range headPart(1) {
		want[name] = tt
	}
	for i, seed := range []int64{202, 100, 100} {
		for name, tt := range blockPart(seed) {
			want[blockPrefix(i)+name] = tt
		}
	}
	if err := sameTensors(want, ts); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"patch_embed.proj.weight", "cls_token", "pos_embed", "blocks.0.attn.qkv.weight",
		"blocks.2.mlp.fc2.bias", "norm.weight", "head.bias"} {
		if _, ok := ts[name]; !ok {
			t.Errorf("no tensor %q", name)
		}
	}
	if meta["format"] != "pt" || meta["frankenvit_name"] != "frank" || meta["variant"] != "shuffle" {
		t.Errorf("metadata %v", meta)
	}
	if meta["config"] != `{"dim":4,"depth":3}` || meta["normalization"] != `{"mean":[0.1307],"std":[0.3081]}` {
		t.Errorf("config %q, normalization %q", meta["config"], meta["normalization"])
	}
	var plan []struct {
		Source string
		Index  int
	}
	if err := json.Unmarshal([]byte(meta["plan"]), &plan); err != nil || len(plan) != 3 ||
		plan[0].Source != "b" || plan[0].Index != 2 || plan[2].Source != "a" || plan[2].Index != 0 {
		t.Errorf("plan %q: %v", meta["plan"], err)
	}
	assertNoTemp(t, filepath.Dir(path))

	// Import brings the same weights back as a new model sharing the blobs.
	sizeBefore, _ := s.Size()
	m, err := s.Import(path, "frank2")
	if err != nil {
		t.Fatal(err)
	}
	if m.Stem.Blob != frank.Stem.Blob || m.Head.Blob != frank.Head.Blob || len(m.Blocks) != 3 ||
		m.Blocks[0].Blob != frank.Blocks[0].Blob || m.Blocks[2].Blob != frank.Blocks[2].Blob {
		t.Errorf("imported parts differ: %+v", m)
	}
	if sizeAfter, _ := s.Size(); sizeAfter-sizeBefore != int64(len(mustRead(t, s.manifestPath("frank2")))) {
		t.Error("import stored weight bytes that were already there")
	}
	got, err := s.Get("frank2")
	if err != nil || string(got.Config) != string(a.Config) || got.Variant != "shuffle" || got.Seed != 0 {
		t.Errorf("imported manifest %+v, %v", got, err)
	}
	if _, err := s.Import(path, "frank2"); !errors.Is(err, ErrExists) {
		t.Errorf("import over an existing model: %v", err)
	}
}

func TestExportFailuresLeaveNothing(t *testing.T) {
	s := newTestStore(t)
	createModel(t, s, "m", 1, 1)
	dir := t.TempDir()
	if err := s.Export("absent", filepath.Join(dir, "x.safetensors")); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing model: %v", err)
	}
	target := filepath.Join(dir, "taken")
	os.Mkdir(target, 0o755)
	os.WriteFile(filepath.Join(target, "keep"), nil, 0o644)
	if err := s.Export("m", target); err == nil || !strings.Contains(err.Error(), target) {
		t.Errorf("export onto a directory: %v", err)
	}
	missingDir := filepath.Join(dir, "no", "such", "dir", "m.safetensors")
	if err := s.Export("m", missingDir); err == nil || !strings.Contains(err.Error(), missingDir) {
		t.Errorf("export into a missing directory: %v", err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("files left in %s: %v", dir, entries)
	}
	assertNoTemp(t, dir)
}

func TestImportRefusesForeignFiles(t *testing.T) {
	s := newTestStore(t)
	dir := t.TempDir()
	write := func(name string, ts Tensors, meta map[string]string) string {
		data, err := EncodeSafetensors(ts, meta)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		os.WriteFile(path, data, 0o644)
		return path
	}
	full := Tensors{}
	for name, tt := range stemPart(1) {
		full[name] = tt
	}
	for name, tt := range headPart(1) {
		full[name] = tt
	}
	full["blocks.1.norm1.weight"] = Tensor{Shape: []int{1}, Data: []float32{1}}
	cfg := map[string]string{"config": `{"dim":4}`}
	garbage := filepath.Join(dir, "garbage.safetensors")
	os.WriteFile(garbage, []byte{1, 2}, 0o644)
	for what, path := range map[string]string{
		"config":         write("noconfig.safetensors", stemPart(1), nil),
		"block 0":        write("gap.safetensors", full, cfg),
		"head":           write("nohead.safetensors", stemPart(1), cfg),
		"too short":      garbage,
		"no such":        filepath.Join(dir, "absent.safetensors"),
		"blocks.<index>": write("badindex.safetensors", Tensors{"blocks.x.a": {Shape: []int{}, Data: []float32{1}}}, cfg),
	} {
		_, err := s.Import(path, "imp")
		if err == nil || !strings.Contains(err.Error(), what) || !strings.HasPrefix(err.Error(), "store: ") {
			t.Errorf("%s: %v", what, err)
		}
	}
	if size, _ := s.Size(); size != 0 || s.Exists("imp") {
		t.Errorf("failed imports left %d bytes", size)
	}
}
