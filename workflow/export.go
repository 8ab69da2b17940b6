package workflow

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

// ExportRequest is everything `frankenvit store export` needs.
type ExportRequest struct {
	Name, Path string
	// Format: "frankenvit" (the default: one safetensors file with timm's
	// names and the metadata that re-imports it), "timm" (a folder in
	// timm's hub layout) or "hf" (a folder Hugging Face's
	// ViTForImageClassification loads).
	Format string
	Log    io.Writer // what the export decides on its own (dropped tensors); nil for none
}

// Export writes a stored model (its plan: a pruned or spliced model exports
// the blocks it runs) as a file or folder other tools load. timm and
// Hugging Face cannot run shuffle-position's slot projections, so such a
// model is refused for them; shuffle-predict's slot heads, unused at
// inference, are dropped. A folder appears whole or not at all, and an
// existing non-empty one is refused.
func Export(s *checkpoint.Store, req ExportRequest) error {
	var write func(*exported) []checkpoint.FolderFile
	switch req.Format {
	case "", FormatFrankenvit:
		return s.Export(req.Name, req.Path)
	case FormatTimm:
		write = (*exported).timmFiles
	case FormatHF:
		write = (*exported).hfFiles
	default:
		return fmt.Errorf("export format %q: want %s, %s or %s", req.Format, FormatFrankenvit, FormatTimm, FormatHF)
	}
	st, err := modelstore.Load(s, req.Name)
	if err != nil {
		return err
	}
	e, err := newExported(st, logTo(req.Log))
	if err != nil {
		return fmt.Errorf("export %s as %s: %v", req.Name, req.Format, err)
	}
	if err := checkpoint.WriteFolder(req.Path, write(e)); err != nil {
		return fmt.Errorf("export %s as %s: %v", req.Name, req.Format, strings.TrimPrefix(err.Error(), "checkpoint: "))
	}
	return nil
}

// exported is a stored model as the published formats see it.
type exported struct {
	cfg    vit.Config // Depth: the plan's length
	ts     checkpoint.Tensors
	norm   dataset.Normalization
	pre    dataset.Preprocess
	labels []string
}

func newExported(st *modelstore.Stored, logf func(string, ...any)) (*exported, error) {
	m, man := st.Model, st.Manifest
	e := &exported{cfg: m.Config, norm: st.Records.Normalization}
	e.cfg.Depth = len(m.Blocks)
	var refused []string
	var dropped int
	e.ts, refused, dropped = modelTensors(m)
	if len(refused) > 0 {
		return nil, fmt.Errorf("tensors %s: shuffle-position's slot projection changes inference and neither timm nor "+
			"Hugging Face runs it (export --format frankenvit keeps it)", strings.Join(refused, ", "))
	}
	if dropped > 0 {
		logf("dropped the %d pos_head.* tensors: shuffle-predict's slot heads are not used at inference", dropped)
	}
	e.pre = exactPreprocess(e.cfg, "bilinear")
	if len(man.Preprocess) > 0 {
		if err := json.Unmarshal(man.Preprocess, &e.pre); err != nil {
			return nil, fmt.Errorf("manifest field preprocess: %v", err)
		}
	}
	var origin importOrigin
	if len(man.Training) > 0 && json.Unmarshal(man.Training, &origin) == nil && len(origin.Labels) == e.cfg.Classes {
		e.labels = origin.Labels
	}
	return e, nil
}

// modelTensors are m's tensors by timm's names, the plan's blocks as
// blocks.0, blocks.1, ...; shuffle-position's slot projection, which the
// published formats cannot run, is left out and named in refused, and
// shuffle-predict's slot heads, unused at inference, are left out and
// counted in dropped.
func modelTensors(m *vit.Model) (ts checkpoint.Tensors, refused []string, dropped int) {
	ts = checkpoint.Tensors{}
	add := func(prefix string, params []*vit.Param) {
		for _, p := range params {
			name := prefix + p.Name
			switch {
			case p.Name == "layer_pos_embed" || strings.HasPrefix(p.Name, "pos_proj."):
				refused = append(refused, name)
			case strings.HasPrefix(p.Name, "pos_head."):
				dropped++
			default:
				ts[name] = checkpoint.Tensor{Shape: p.Shape, Data: p.Data()}
			}
		}
	}
	add("", m.Stem.Params())
	for i, b := range m.Blocks {
		add("blocks."+strconv.Itoa(i)+".", b.Params())
	}
	add("", m.Head.Params())
	return ts, refused, dropped
}

var ptMetadata = map[string]string{checkpoint.MetaFormat: "pt"}

func safetensorsFile(name string, ts checkpoint.Tensors) checkpoint.FolderFile {
	return checkpoint.FolderFile{Name: name, Write: func(w io.Writer) error { return checkpoint.WriteSafetensors(w, ts, ptMetadata) }}
}

// imageSize is a square size as one number, else [height, width].
func imageSize(h, w int) any {
	if h == w {
		return h
	}
	return []int{h, w}
}

// timmWidths are timm's ViT sizes by width, for the closest architecture name.
var timmWidths = []struct {
	dim  int
	arch string
}{{192, "vit_tiny_patch16_224"}, {384, "vit_small_patch16_224"}, {768, "vit_base_patch16_224"},
	{1024, "vit_large_patch16_224"}, {1280, "vit_huge_patch14_224"}}

// timmArch is the registered timm ViT closest in width; model_args give
// the exact sizes.
func timmArch(dim int) string {
	best := timmWidths[0]
	for _, w := range timmWidths {
		if math.Abs(float64(w.dim-dim)) < math.Abs(float64(best.dim-dim)) {
			best = w
		}
	}
	return best.arch
}

// timmFiles: model.safetensors with our (timm's) names and timm's hub config.json.
func (e *exported) timmFiles() []checkpoint.FolderFile {
	c := e.cfg
	mode := "center"
	if e.pre.Resize == dataset.ResizeExact {
		mode = "squash"
	}
	pretrained := map[string]any{"input_size": []int{c.Channels, c.ImageHeight, c.ImageWidth}, "fixed_input_size": true,
		"interpolation": e.pre.Interpolation, "crop_pct": e.pre.CropPct, "crop_mode": mode, "mean": e.norm.Mean,
		"std": e.norm.Std, "num_classes": c.Classes, "first_conv": "patch_embed.proj", "classifier": "head"}
	if e.labels != nil {
		pretrained["label_names"] = e.labels
	}
	config := map[string]any{"architecture": timmArch(c.Dim), "num_classes": c.Classes, "num_features": c.Dim,
		"global_pool": "token", "pretrained_cfg": pretrained,
		"model_args": map[string]any{"img_size": imageSize(c.ImageHeight, c.ImageWidth), "patch_size": c.Patch,
			"in_chans": c.Channels, "embed_dim": c.Dim, "depth": c.Depth, "num_heads": c.Heads,
			"mlp_ratio": float64(c.MLP) / float64(c.Dim), "num_classes": c.Classes, "qkv_bias": true,
			"class_token": true, "global_pool": "token"}}
	if c.Eps() != vit.LayerNormEps {
		config["layer_norm_eps"] = c.LayerNormEps // frankenvit's key; timm itself runs 1e-6
	}
	return []checkpoint.FolderFile{safetensorsFile(checkpoint.FolderWeights, e.ts), checkpoint.JSONFile(hfConfigFile, config)}
}

// hfFiles: config.json of a ViTForImageClassification, preprocessor_config.json
// and model.safetensors with Hugging Face's names.
func (e *exported) hfFiles() []checkpoint.FolderFile {
	c := e.cfg
	id2label, label2id := map[string]string{}, map[string]int{}
	for i := 0; i < c.Classes; i++ {
		l := "LABEL_" + strconv.Itoa(i)
		if e.labels != nil {
			l = e.labels[i]
		}
		id2label[strconv.Itoa(i)], label2id[l] = l, i
	}
	config := map[string]any{"architectures": []string{"ViTForImageClassification"}, "model_type": "vit",
		"hidden_size": c.Dim, "num_hidden_layers": c.Depth, "num_attention_heads": c.Heads, "intermediate_size": c.MLP,
		"hidden_act": "gelu", "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0, "initializer_range": 0.02,
		"layer_norm_eps": vit.LayerNormEps, "image_size": imageSize(c.ImageHeight, c.ImageWidth), "patch_size": c.Patch,
		"num_channels": c.Channels, "qkv_bias": true, "encoder_stride": c.Patch, "id2label": id2label,
		"label2id": label2id, "torch_dtype": "float32"}
	if c.LayerNormEps > 0 {
		config["layer_norm_eps"] = c.LayerNormEps // exactly, not through float32
	}
	p := e.pre
	resample := 2
	if p.Interpolation == "bicubic" {
		resample = 3
	}
	pre := map[string]any{"do_resize": true, "do_rescale": true, "rescale_factor": 1.0 / 255, "do_normalize": true,
		"image_mean": e.norm.Mean, "image_std": e.norm.Std, "resample": resample,
		"image_processor_type": "ViTImageProcessor", "size": map[string]int{"height": p.Height, "width": p.Width}}
	resized := func(n int) int { return int(math.Floor(float64(n) / p.CropPct)) }
	switch {
	case p.Resize == dataset.ResizeShorter:
		// resize the shorter side, centre crop: BitImageProcessor's steps
		pre["image_processor_type"], pre["size"] = "BitImageProcessor", map[string]int{"shortest_edge": resized(p.Height)}
		pre["do_center_crop"], pre["crop_size"] = true, map[string]int{"height": p.Height, "width": p.Width}
	case p.CropPct < 1:
		pre["image_processor_type"], pre["size"] = "DeiTImageProcessor", map[string]int{"height": resized(p.Height), "width": resized(p.Width)}
		pre["do_center_crop"], pre["crop_size"] = true, map[string]int{"height": p.Height, "width": p.Width}
	}
	return []checkpoint.FolderFile{checkpoint.JSONFile(hfConfigFile, config), checkpoint.JSONFile(hfPreprocessorFile, pre),
		safetensorsFile(checkpoint.FolderWeights, timmToHF(e.ts, c.Depth, "vit."))}
}
