package workflow

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/frankenvit/frankenvit/dataset"
)

// timm's hub folders: model.safetensors (our names) and config.json with
// "architecture", "num_classes", "pretrained_cfg" and maybe "model_args".

// timmConfig is what frankenvit reads of a timm hub config.json.
type timmConfig struct {
	Architecture  string                     `json:"architecture"`
	NumClasses    *int                       `json:"num_classes"`
	GlobalPool    *string                    `json:"global_pool"`
	LabelNames    []string                   `json:"label_names"`
	ModelArgs     map[string]json.RawMessage `json:"model_args"`
	PretrainedCfg *timmPretrainedCfg         `json:"pretrained_cfg"`
	// LayerNormEps is frankenvit's addition for a model whose LayerNorm
	// epsilon is not timm's 1e-6 (an imported Hugging Face ViT); timm ignores it.
	LayerNormEps *float64 `json:"layer_norm_eps"`
}

type timmPretrainedCfg struct {
	InputSize     []int     `json:"input_size"` // [C, H, W]
	Interpolation *string   `json:"interpolation"`
	Mean          []float32 `json:"mean"`
	Std           []float32 `json:"std"`
	CropPct       *float64  `json:"crop_pct"`
	CropMode      *string   `json:"crop_mode"`
	NumClasses    *int      `json:"num_classes"`
	LabelNames    []string  `json:"label_names"`
}

// timmModelArgs are the VisionTransformer arguments frankenvit reads: the
// sizes, and the options it runs only at the value given here. Any other
// model argument might change the architecture and is refused.
type timmModelArgs struct {
	ImgSize    *sizeHW  `json:"img_size"`
	PatchSize  *int     `json:"patch_size"`
	InChans    *int     `json:"in_chans"`
	NumClasses *int     `json:"num_classes"`
	EmbedDim   *int     `json:"embed_dim"`
	Depth      *int     `json:"depth"`
	NumHeads   *int     `json:"num_heads"`
	MLPRatio   *float64 `json:"mlp_ratio"`
	QKVBias    *bool    `json:"qkv_bias"`
}

// timmArgsSupported: the model_args a timm ViT may carry and the values the
// engine runs ("" for any value: a size, checked against the tensors, or a
// training-only rate).
var timmArgsSupported = map[string]string{
	"img_size": "", "patch_size": "", "in_chans": "", "num_classes": "", "embed_dim": "", "depth": "", "num_heads": "",
	"mlp_ratio": "", "qkv_bias": "", "drop_rate": "", "pos_drop_rate": "", "patch_drop_rate": "", "proj_drop_rate": "",
	"attn_drop_rate": "", "drop_path_rate": "", "weight_init": "", "dynamic_img_size": "false", "dynamic_img_pad": "false",
	"global_pool": `"token"`, "class_token": "true", "reg_tokens": "0", "no_embed_class": "false", "init_values": "null",
	"qk_norm": "false", "pre_norm": "false", "fc_norm": "false|null", "act_layer": `"gelu"|null`,
}

// timmSpec is what a timm hub config.json says.
type timmSpec struct {
	arch         string
	heads, depth int
	dim, mlp     int
	classes      int // -1: not said
	image        [2]int
	qkv          bool
	eps          float64
	labels       []string
	norm         *dataset.Normalization
	pre          *dataset.Preprocess // nil without an input_size
}

// parseTimmConfig reads a timm hub config.json.
func parseTimmConfig(data []byte) (*timmSpec, error) {
	var c timmConfig
	if err := decodeConfigJSON(hfConfigFile, data, &c); err != nil {
		return nil, err
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	spec := &timmSpec{arch: c.Architecture, classes: -1, qkv: true}
	if c.Architecture == "" {
		bad("no architecture")
	} else if !strings.HasPrefix(c.Architecture, "vit_") && !strings.HasPrefix(c.Architecture, "deit_") {
		bad("architecture %q is not a timm VisionTransformer (vit_* or deit_*)", c.Architecture)
	}
	if c.GlobalPool != nil && *c.GlobalPool != "token" {
		bad("global_pool %q is not supported: the engine classifies from the class token (global_pool \"token\")", *c.GlobalPool)
	}
	var args timmModelArgs
	if c.ModelArgs != nil {
		raw, _ := json.Marshal(c.ModelArgs)
		if err := decodeConfigJSON("model_args", raw, &args); err != nil {
			bad("%v", err)
		}
		keys := make([]string, 0, len(c.ModelArgs))
		for k := range c.ModelArgs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			want, ok := timmArgsSupported[k]
			if !ok {
				bad("model_args %s is not supported", k)
				continue
			}
			if got := compactString(c.ModelArgs[k]); want != "" && !strings.Contains("|"+want+"|", "|"+got+"|") {
				bad("model_args %s %s is not supported (want %s)", k, got, strings.ReplaceAll(want, "|", " or "))
			}
		}
	}
	if c.LayerNormEps != nil {
		if !(*c.LayerNormEps > 0 && *c.LayerNormEps < 1) {
			bad("layer_norm_eps %v must be in (0, 1)", *c.LayerNormEps)
		}
		spec.eps = *c.LayerNormEps
	}
	for _, f := range []struct {
		dst *int
		src *int
	}{{&spec.heads, args.NumHeads}, {&spec.depth, args.Depth}, {&spec.dim, args.EmbedDim}, {&spec.classes, args.NumClasses},
		{&spec.classes, c.NumClasses}} {
		if f.src != nil {
			*f.dst = *f.src
		}
	}
	if args.MLPRatio != nil && spec.dim > 0 {
		spec.mlp = int(math.Round(*args.MLPRatio * float64(spec.dim)))
	}
	if args.QKVBias != nil {
		spec.qkv = *args.QKVBias
	}
	if args.ImgSize != nil {
		spec.image = *args.ImgSize
	}
	spec.labels = c.LabelNames
	if p := c.PretrainedCfg; p != nil {
		if len(spec.labels) == 0 {
			spec.labels = p.LabelNames
		}
		if spec.classes < 0 && p.NumClasses != nil {
			spec.classes = *p.NumClasses
		}
		if err := spec.preprocess(p); err != nil {
			bad("pretrained_cfg: %v", err)
		}
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %s", hfConfigFile, strings.Join(problems, "; "))
	}
	return spec, nil
}

func compactString(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	out, _ := json.Marshal(v)
	return strings.ToLower(string(out))
}

// timmCropModes maps timm's crop_mode to dataset.Preprocess's resize.
var timmCropModes = map[string]string{"center": dataset.ResizeShorter, "squash": dataset.ResizeExact}

// preprocess reads pretrained_cfg's input_size, interpolation, crop_pct,
// crop_mode, mean and std; timm's defaults fill what it does not say.
func (spec *timmSpec) preprocess(p *timmPretrainedCfg) error {
	var problems []string
	if p.Mean != nil || p.Std != nil {
		spec.norm = &dataset.Normalization{Mean: p.Mean, Std: p.Std}
	}
	if p.InputSize == nil {
		return nil
	}
	if len(p.InputSize) != 3 || p.InputSize[0] <= 0 || p.InputSize[1] <= 0 || p.InputSize[2] <= 0 ||
		p.InputSize[1] > maxWidth || p.InputSize[2] > maxWidth {
		return fmt.Errorf("input_size %v: want [channels, height, width]", p.InputSize)
	}
	pre := dataset.TimmPreprocess(p.InputSize[1], p.InputSize[2], p.InputSize[0])
	if spec.image == [2]int{} {
		spec.image = [2]int{pre.Height, pre.Width}
	}
	if p.Interpolation != nil {
		pre.Interpolation = *p.Interpolation
		if pre.Interpolation != "bilinear" && pre.Interpolation != "bicubic" {
			problems = append(problems, fmt.Sprintf("interpolation %q is not supported (bilinear or bicubic)", pre.Interpolation))
		}
	}
	if p.CropPct != nil {
		pre.CropPct = *p.CropPct
	}
	if p.CropMode != nil {
		if pre.Resize = timmCropModes[*p.CropMode]; pre.Resize == "" {
			problems = append(problems, fmt.Sprintf("crop_mode %q is not supported (center or squash)", *p.CropMode))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	spec.pre = &pre
	return nil
}
