package workflow

import (
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/vit"
)

const (
	seedHFConfig = `{"architectures": ["ViTForImageClassification"], "model_type": "vit", "hidden_size": 64,
"num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 128, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
"image_size": 224, "patch_size": 16, "num_channels": 3, "qkv_bias": true, "id2label": {"0": "a", "1": "b"}}`
	seedHFPreprocessor = `{"do_normalize": true, "do_rescale": true, "rescale_factor": 0.00392156862745098, "do_resize": true,
"image_mean": [0.5, 0.5, 0.5], "image_std": [0.5, 0.5, 0.5], "resample": 3, "size": {"height": 256, "width": 256},
"do_center_crop": true, "crop_size": 224}`
	seedTimmConfig = `{"architecture": "vit_tiny_patch16_224", "num_classes": 10, "global_pool": "token",
"model_args": {"embed_dim": 64, "depth": 2, "num_heads": 2, "mlp_ratio": 2.0, "img_size": [224, 224]},
"pretrained_cfg": {"input_size": [3, 224, 224], "interpolation": "bicubic", "crop_pct": 0.9, "crop_mode": "center",
"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225], "num_classes": 10, "label_names": ["a"]}}`
)

// FuzzImportHFConfig: config.json and preprocessor_config.json of any
// content are parsed or refused, never a panic; what parses is usable.
func FuzzImportHFConfig(f *testing.F) {
	f.Add([]byte(seedHFConfig), []byte(seedHFPreprocessor))
	f.Add([]byte(seedHFConfig), []byte(`{"size": {"shortest_edge": 256}, "do_center_crop": true, "crop_size": {"height": 224, "width": 224}, "resample": 2}`))
	f.Add([]byte(`{"model_type": "deit", "architectures": ["ViTModel"], "image_size": [8, 4], "patch_size": [4, 4]}`), []byte(`{"size": 3}`))
	f.Add([]byte(`{"model_type": 1}`), []byte(`[]`))
	f.Fuzz(func(t *testing.T, config, pre []byte) {
		spec, err := parseHFConfig(config, pre)
		if err != nil {
			return
		}
		if spec.cfg.Dim <= 0 || spec.cfg.Patch <= 0 || spec.cfg.LayerNormEps <= 0 {
			t.Fatalf("accepted config %+v", spec.cfg)
		}
		if spec.pre.Height != spec.cfg.ImageHeight || spec.pre.Width != spec.cfg.ImageWidth {
			t.Fatalf("preprocessing %+v for images %dx%d", spec.pre, spec.cfg.ImageHeight, spec.cfg.ImageWidth)
		}
	})
}

// FuzzImportTimmConfig: a timm hub config.json of any content is parsed or
// refused, never a panic.
func FuzzImportTimmConfig(f *testing.F) {
	f.Add([]byte(seedTimmConfig))
	f.Add([]byte(`{"architecture": "vit_x", "model_args": {"global_pool": "avg", "init_values": null, "img_size": 7}}`))
	f.Add([]byte(`{"architecture": "vit_x", "pretrained_cfg": {"input_size": [3], "crop_mode": "squash"}}`))
	f.Fuzz(func(t *testing.T, config []byte) {
		spec, err := parseTimmConfig(config)
		if err != nil {
			return
		}
		if spec.pre != nil {
			if err := spec.pre.Validate(); err != nil && spec.pre.Height <= 0 {
				t.Fatalf("accepted input size %dx%d", spec.pre.Height, spec.pre.Width)
			}
		}
	})
}

// FuzzImportTensors feeds any bytes, read as safetensors, through the
// layout checks and mappings: the timm names' check and config inference,
// and the Hugging Face table; never a panic.
func FuzzImportTensors(f *testing.F) {
	m, _ := vit.NewModel("f", publishedConfig)
	ts, _, _ := modelTensors(m)
	seed, err := checkpoint.EncodeSafetensors(timmToHF(ts, publishedConfig.Depth, "vit."), nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	seed, _ = checkpoint.EncodeSafetensors(ts, nil)
	f.Add(seed)
	f.Add([]byte("\x08\x00\x00\x00\x00\x00\x00\x00{}      "))
	nop := func(string, ...any) {}
	f.Fuzz(func(t *testing.T, data []byte) {
		ts, _, err := checkpoint.ReadSafetensors(data)
		if err != nil {
			return
		}
		checkTimmNames(ts)
		if stem, blocks, head, err := checkpoint.SplitExported(ts); err == nil {
			if c, err := inferConfig(stem, blocks, head); err == nil && c.Validate() == nil {
				_ = timmShapes(c)
			}
		}
		for _, qkv := range []bool{true, false} {
			out, problems := hfToTimm(ts, "vit.", publishedConfig, qkv, qkv, nop)
			if len(problems) == 0 && len(out) == 0 {
				t.Fatal("no tensors and no problems")
			}
		}
	})
}
