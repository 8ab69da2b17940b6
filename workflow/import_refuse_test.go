package workflow

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/vit"
)

// publishedConfig is the small model the refusal tests publish and alter.
var publishedConfig = vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: 2,
	Classes: 4, Variant: vit.Baseline}

// alterFolder copies the folder src to a new one, changing its tensors
// (the weights file's) and its JSON files (by file name) first.
func alterFolder(t *testing.T, src string, alter func(ts checkpoint.Tensors, files map[string]map[string]any)) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.Mkdir(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	ts, _, err := checkpoint.ReadSafetensorsFile(filepath.Join(src, checkpoint.FolderWeights))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]map[string]any{}
	for _, name := range []string{hfConfigFile, hfPreprocessorFile} {
		if raw, err := os.ReadFile(filepath.Join(src, name)); err == nil {
			var v map[string]any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			files[name] = v
		}
	}
	alter(ts, files)
	writeSafetensors(t, filepath.Join(dst, checkpoint.FolderWeights), ts, nil)
	for name, v := range files {
		raw, _ := json.Marshal(v)
		if err := os.WriteFile(filepath.Join(dst, name), raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestImportRefusals: every unsupported tensor and option is named, shapes
// that contradict the config name every bad tensor, broken files and
// configs are one clear error, and nothing reaches the store.
func TestImportRefusals(t *testing.T) {
	s := openStore(t)
	storeRandomModel(t, s, "m", publishedConfig, 1)
	out := t.TempDir()
	hf, timm := filepath.Join(out, "hf"), filepath.Join(out, "timm")
	for dir, format := range map[string]string{hf: FormatHF, timm: FormatTimm} {
		if err := Export(s, ExportRequest{Name: "m", Path: dir, Format: format}); err != nil {
			t.Fatal(err)
		}
	}
	tensor := func(shape ...int) checkpoint.Tensor {
		return checkpoint.Tensor{Shape: shape, Data: make([]float32, shapeSize(shape))}
	}
	add := func(names ...string) func(checkpoint.Tensors, map[string]map[string]any) {
		return func(ts checkpoint.Tensors, _ map[string]map[string]any) {
			for _, n := range names {
				ts[n] = tensor(16)
			}
		}
	}
	set := func(file string, kv ...any) func(checkpoint.Tensors, map[string]map[string]any) {
		return func(_ checkpoint.Tensors, files map[string]map[string]any) {
			for i := 0; i < len(kv); i += 2 {
				m := files[file]
				keys := strings.Split(kv[i].(string), ".")
				for _, k := range keys[:len(keys)-1] {
					m = m[k].(map[string]any)
				}
				if kv[i+1] == nil {
					delete(m, keys[len(keys)-1])
				} else {
					m[keys[len(keys)-1]] = kv[i+1]
				}
			}
		}
	}
	drop := func(prefixes ...string) func(checkpoint.Tensors, map[string]map[string]any) {
		return func(ts checkpoint.Tensors, _ map[string]map[string]any) {
			for n := range ts {
				for _, p := range prefixes {
					if strings.HasPrefix(n, p) {
						delete(ts, n)
					}
				}
			}
		}
	}
	cases := []struct {
		name  string
		base  string
		alter func(checkpoint.Tensors, map[string]map[string]any)
		want  []string
	}{
		{"distillation token", hf, add("vit.embeddings.distillation_token"), []string{"tensor vit.embeddings.distillation_token: DeiT distillation"}},
		{"distillation head", hf, add("distillation_classifier.weight", "cls_classifier.bias"),
			[]string{"tensor distillation_classifier.weight: DeiT distillation", "tensor cls_classifier.bias: DeiT distillation"}},
		{"with teacher", hf, set(hfConfigFile, "architectures", []string{"DeiTForImageClassificationWithTeacher"}, "model_type", "deit"),
			[]string{"DeiTForImageClassificationWithTeacher: DeiT distillation"}},
		{"unknown hf tensor", hf, add("vit.encoder.layer.0.attention.attention.rel_pos"),
			[]string{"tensor vit.encoder.layer.0.attention.attention.rel_pos is not part of a ViT"}},
		{"gelu_new", hf, set(hfConfigFile, "hidden_act", "gelu_new"), []string{`hidden_act "gelu_new" is not supported`}},
		{"non-square patch", hf, set(hfConfigFile, "patch_size", []int{4, 2}), []string{"patch_size [4 2] is not square"}},
		{"not a vit", hf, set(hfConfigFile, "model_type", "bert"), []string{`model_type "bert" is not a ViT`}},
		{"no classifier", hf, drop("classifier."), []string{"no classifier (classifier.weight", "--new-head N"}},
		{"hf shapes", hf, set(hfConfigFile, "intermediate_size", 32), []string{
			"vit.encoder.layer.0.intermediate.dense.weight has shape [24 16], want [32 16]",
			"vit.encoder.layer.0.intermediate.dense.bias has shape [24], want [32]",
			"vit.encoder.layer.0.output.dense.weight has shape [16 24], want [16 32]",
			"vit.encoder.layer.1.intermediate.dense.weight has shape [24 16], want [32 16]",
			"vit.encoder.layer.1.intermediate.dense.bias has shape [24], want [32]",
			"vit.encoder.layer.1.output.dense.weight has shape [16 24], want [16 32]"}},
		{"hf missing tensor", hf, drop("vit.encoder.layer.1.attention.attention.key.weight"),
			[]string{"vit.encoder.layer.1.attention.attention.key.weight is missing (want shape [16 16])"}},
		{"hf type typo", hf, set(hfConfigFile, "hidden_size", "16"), []string{"config.json: hidden_size is a string, want a number"}},
		{"bad id2label", hf, set(hfConfigFile, "id2label", map[string]string{"0": "a", "1": "b", "2": "c", "x": "d"}),
			[]string{`id2label: key "x"`}},
		{"no resample", hf, set(hfPreprocessorFile, "resample", nil), []string{"preprocessor_config.json: no resample"}},
		{"nearest", hf, set(hfPreprocessorFile, "resample", 0), []string{"resample 0 is not supported"}},
		{"rescale", hf, set(hfPreprocessorFile, "rescale_factor", 1), []string{"rescale_factor 1 is not supported"}},
		{"no size", hf, set(hfPreprocessorFile, "size", nil), []string{"preprocessor_config.json: no size"}},
		{"no mean", hf, set(hfPreprocessorFile, "image_mean", nil, "image_std", nil), []string{"give no mean and std: pass --mean and --std"}},
		{"wrong size", hf, set(hfPreprocessorFile, "size", map[string]int{"height": 9, "width": 8}),
			[]string{"the processed images are 9x8, but config.json's image_size is 8x8"}},
		{"register tokens", timm, add("reg_token"), []string{"tensor reg_token: register tokens are not supported"}},
		{"several", timm, add("fc_norm.weight", "dist_token", "head_dist.weight", "blocks.0.ls1.gamma", "blocks.1.attn.q_norm.weight",
			"norm_pre.weight", "patch_embed.norm.weight"), []string{
			"tensor fc_norm.weight: global average pooling", "tensor dist_token: DeiT distillation",
			"tensor head_dist.weight: DeiT distillation", "tensor blocks.0.ls1.gamma: layer scale",
			"tensor blocks.1.attn.q_norm.weight: qk norm", "tensor norm_pre.weight", "tensor patch_embed.norm.weight"}},
		{"no class token", timm, drop("cls_token"), []string{"no class token (cls_token)"}},
		{"global pool", timm, set(hfConfigFile, "global_pool", "avg"), []string{`global_pool "avg" is not supported`}},
		{"model args", timm, set(hfConfigFile, "model_args.class_token", false, "model_args.init_values", 1e-5,
			"model_args.qk_norm", true, "model_args.reg_tokens", 4, "model_args.frobnicate", 1), []string{
			"model_args class_token false is not supported", "model_args init_values 0.00001 is not supported",
			"model_args qk_norm true is not supported", "model_args reg_tokens 4 is not supported",
			"model_args frobnicate is not supported"}},
		{"crop mode", timm, set(hfConfigFile, "pretrained_cfg.crop_mode", "border"), []string{`crop_mode "border" is not supported`}},
		{"timm shapes", timm, set(hfConfigFile, "num_classes", 7), []string{
			"head: head.weight has shape [4 16], want [7 16]", "head: head.bias has shape [4], want [7]"}},
		{"timm type typo", timm, set(hfConfigFile, "pretrained_cfg.crop_pct", "0.9"),
			[]string{"config.json: pretrained_cfg.crop_pct is a string, want a number"}},
	}
	before := snapshotDir(t, s.Dir)
	for _, c := range cases {
		dir := alterFolder(t, c.base, c.alter)
		_, err := Import(s, ImportRequest{File: dir, Name: "x"})
		if err == nil {
			t.Errorf("%s: imported", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v\nwant %q", c.name, err, w)
			}
		}
	}
	// A bare timm file: every unsupported tensor in one error.
	ts, _, err := checkpoint.ReadSafetensorsFile(filepath.Join(timm, checkpoint.FolderWeights))
	if err != nil {
		t.Fatal(err)
	}
	ts["reg_token"], ts["fc_norm.bias"] = tensor(1, 4, 16), tensor(16)
	bare := filepath.Join(t.TempDir(), "bare.safetensors")
	writeSafetensors(t, bare, ts, nil)
	_, err = Import(s, ImportRequest{File: bare, Name: "x", Heads: 2, Mean: []float32{0}, Std: []float32{1}})
	if err == nil || !strings.Contains(err.Error(), "tensor reg_token") || !strings.Contains(err.Error(), "tensor fc_norm.bias") {
		t.Errorf("bare file with register tokens and fc_norm: %v", err)
	}
	// Broken files.
	truncated := alterFolder(t, hf, func(checkpoint.Tensors, map[string]map[string]any) {})
	raw, _ := os.ReadFile(filepath.Join(truncated, checkpoint.FolderWeights))
	writeFile(t, filepath.Join(truncated, checkpoint.FolderWeights), raw[:len(raw)-10])
	pickle := alterFolder(t, hf, func(checkpoint.Tensors, map[string]map[string]any) {})
	os.Remove(filepath.Join(pickle, checkpoint.FolderWeights))
	writeFile(t, filepath.Join(pickle, "pytorch_model.bin"), []byte("PK\x03\x04"))
	badJSON := alterFolder(t, hf, func(checkpoint.Tensors, map[string]map[string]any) {})
	writeFile(t, filepath.Join(badJSON, hfConfigFile), []byte(`{"model_type": "vit", "hidden_size": 16,,}`))
	shards := alterFolder(t, hf, func(checkpoint.Tensors, map[string]map[string]any) {})
	os.Rename(filepath.Join(shards, checkpoint.FolderWeights), filepath.Join(shards, "model-1.safetensors"))
	writeFile(t, filepath.Join(shards, checkpoint.FolderIndex), []byte(`{"weight_map": {"vit.layernorm.weight": "model-2.safetensors"}}`))
	for _, c := range []struct{ dir, want string }{
		{truncated, "run past the"},
		{pickle, "pytorch_model.bin, a pickle: frankenvit reads safetensors only"},
		{badJSON, "config.json: not valid JSON"},
		{shards, "model-2.safetensors"},
		{filepath.Join(out, "nothing"), "no such file"},
	} {
		if _, err := Import(s, ImportRequest{File: c.dir, Name: "x"}); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.dir, err, c.want)
		}
	}
	if !bytes.Equal(before, snapshotDir(t, s.Dir)) {
		t.Error("a refused import changed the store")
	}
}

// TestExportPublished: the plan is exported (a pruned model has its blocks),
// shuffle-predict's slot heads are dropped, shuffle-position is refused by
// tensor name, and a non-empty folder is not written into.
func TestExportPublished(t *testing.T) {
	s := openStore(t)
	c := publishedConfig
	c.Variant = vit.ShufflePredict
	a := storeRandomModel(t, s, "a", c, 1)
	pruned, _ := vit.NewModel("p", c)
	pruned.Stem, pruned.Head, pruned.Blocks = a.Stem, a.Head, vit.Plan{a.Blocks[1]}
	storeModel(t, s, pruned)
	c.Variant, c.PosDim = vit.ShufflePosition, 4
	storeRandomModel(t, s, "pos", c, 2)
	x := make([]float32, 2*c.ImageSize())
	for i := range x {
		x[i] = float32(i%11)/5 - 1
	}
	for _, name := range []string{"a", "p"} {
		for _, format := range []string{FormatTimm, FormatHF} {
			dir := filepath.Join(t.TempDir(), "out")
			var log bytes.Buffer
			if err := Export(s, ExportRequest{Name: name, Path: dir, Format: format, Log: &log}); err != nil {
				t.Fatalf("%s %s: %v", name, format, err)
			}
			if !strings.Contains(log.String(), "dropped the") || !strings.Contains(log.String(), "pos_head") {
				t.Errorf("%s %s: the slot heads' drop was not logged: %q", name, format, log.String())
			}
			back := name + "-" + format
			man, err := Import(s, ImportRequest{File: dir, Name: back})
			if err != nil {
				t.Fatalf("%s %s: %v", name, format, err)
			}
			m, _, _ := loadModel(s, name)
			want := vit.NewRunner(m).Logits(x, 2, m.Sequential())
			if got := importedLogits(t, s, back, x, false); !slices.Equal(got, want) {
				t.Errorf("%s %s: re-imported logits differ", name, format)
			}
			if len(man.Blocks) != len(m.Blocks) {
				t.Errorf("%s %s: %d blocks, want the plan's %d", name, format, len(man.Blocks), len(m.Blocks))
			}
			if err := Export(s, ExportRequest{Name: name, Path: dir, Format: format}); err == nil || !strings.Contains(err.Error(), "not empty") {
				t.Errorf("%s %s: export into a non-empty folder: %v", name, format, err)
			}
		}
	}
	dir := filepath.Join(t.TempDir(), "pos")
	err := Export(s, ExportRequest{Name: "pos", Path: dir, Format: FormatHF})
	if err == nil || !strings.Contains(err.Error(), "layer_pos_embed") || !strings.Contains(err.Error(), "blocks.1.pos_proj.fc.weight") {
		t.Errorf("shuffle-position to hf: %v", err)
	}
	if _, serr := os.Stat(dir); serr == nil {
		t.Error("a refused export left a folder")
	}
	if err := Export(s, ExportRequest{Name: "a", Path: dir, Format: "onnx"}); err == nil || !strings.Contains(err.Error(), `"onnx"`) {
		t.Errorf("unknown format: %v", err)
	}
}

// TestImportBareHeads: a bare timm file whose width is a multiple of 64
// gets timm's head width (logged); --heads overrides it.
func TestImportBareHeads(t *testing.T) {
	s := openStore(t)
	c := publishedConfig
	c.Dim, c.Heads = 128, 4
	storeRandomModel(t, s, "w", c, 3)
	file := filepath.Join(t.TempDir(), "w.safetensors")
	if err := s.Export("w", file); err != nil {
		t.Fatal(err)
	}
	ts, _, err := checkpoint.ReadSafetensorsFile(file)
	if err != nil {
		t.Fatal(err)
	}
	writeSafetensors(t, file, ts, nil)
	for _, c := range []struct{ heads, want int }{{0, 2}, {4, 4}} {
		var log bytes.Buffer
		name := "h" + string(rune('0'+c.want))
		man, err := Import(s, ImportRequest{File: file, Name: name, Heads: c.heads, Mean: []float32{0.5}, Std: []float32{0.25}, Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		var cfg vit.Config
		json.Unmarshal(man.Config, &cfg)
		if cfg.Heads != c.want || (c.heads == 0) != strings.Contains(log.String(), "heads: 2, timm's head width of 64 at dim 128") {
			t.Errorf("--heads %d: %d heads, log %q", c.heads, cfg.Heads, log.String())
		}
	}
}
