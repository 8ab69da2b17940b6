package workflow

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

// Hugging Face transformers' ViT folders: config.json (ViTConfig or
// DeiTConfig) and preprocessor_config.json (ViTImageProcessor, DeiT's).

// hfConfigFile and hfPreprocessorFile are the folder's JSON files.
const (
	hfConfigFile       = "config.json"
	hfPreprocessorFile = "preprocessor_config.json"
)

// hfConfig is what frankenvit reads of config.json; other keys (dropout
// rates, initializer_range, torch_dtype, ...) do not change inference.
type hfConfig struct {
	ModelType         string            `json:"model_type"`
	Architectures     []string          `json:"architectures"`
	HiddenSize        int               `json:"hidden_size"`
	NumHiddenLayers   int               `json:"num_hidden_layers"`
	NumAttentionHeads int               `json:"num_attention_heads"`
	IntermediateSize  int               `json:"intermediate_size"`
	HiddenAct         *string           `json:"hidden_act"`
	LayerNormEps      *float64          `json:"layer_norm_eps"`
	ImageSize         *sizeHW           `json:"image_size"`
	PatchSize         *sizeHW           `json:"patch_size"`
	NumChannels       *int              `json:"num_channels"`
	QKVBias           *bool             `json:"qkv_bias"`
	ID2Label          map[string]string `json:"id2label"`
}

// hfPreprocessor is what frankenvit reads of preprocessor_config.json.
type hfPreprocessor struct {
	ImageMean     []float32       `json:"image_mean"`
	ImageStd      []float32       `json:"image_std"`
	Size          json.RawMessage `json:"size"`
	CropSize      json.RawMessage `json:"crop_size"`
	DoResize      *bool           `json:"do_resize"`
	DoCenterCrop  *bool           `json:"do_center_crop"`
	DoRescale     *bool           `json:"do_rescale"`
	RescaleFactor *float64        `json:"rescale_factor"`
	DoNormalize   *bool           `json:"do_normalize"`
	Resample      *int            `json:"resample"`
}

// sizeHW is a size given as one number or as [height, width].
type sizeHW [2]int

func (s *sizeHW) UnmarshalJSON(b []byte) error {
	var n int
	if err := json.Unmarshal(b, &n); err == nil {
		*s = sizeHW{n, n}
		return nil
	}
	var hw []int
	if err := json.Unmarshal(b, &hw); err != nil || len(hw) != 2 {
		return fmt.Errorf("want a number or [height, width], got %s", b)
	}
	*s = sizeHW{hw[0], hw[1]}
	return nil
}

// maxWidth bounds every size a config may give, so that a typo cannot make
// the import allocate gigabytes before the weights say otherwise.
const maxWidth = 1 << 16

// hfSpec is what an HF folder's two JSON files say.
type hfSpec struct {
	arch   string
	prefix string // of every tensor name but the classifier's
	cfg    vit.Config
	qkv    bool // the query, key and value have biases
	labels []string
	norm   *dataset.Normalization // nil when do_normalize is absent and the file has no mean and std
	pre    dataset.Preprocess
}

// parseHFConfig reads config.json and preprocessor_config.json; pre may be
// nil (a folder without preprocessing: --mean and --std are then needed,
// and the preprocessing is a plain resize to the model's size).
func parseHFConfig(config, pre []byte) (*hfSpec, error) {
	var c hfConfig
	if err := decodeConfigJSON(hfConfigFile, config, &c); err != nil {
		return nil, err
	}
	spec := &hfSpec{qkv: true}
	switch c.ModelType {
	case "vit":
		spec.prefix = "vit."
	case "deit":
		spec.prefix = "deit."
	default:
		return nil, fmt.Errorf("%s: model_type %q is not a ViT (want \"vit\" or \"deit\")", hfConfigFile, c.ModelType)
	}
	if len(c.Architectures) > 0 {
		spec.arch = c.Architectures[0]
	}
	switch spec.arch {
	case "ViTModel", "DeiTModel":
		spec.prefix = ""
	case "", "ViTForImageClassification", "DeiTForImageClassification":
	case "DeiTForImageClassificationWithTeacher":
		return nil, fmt.Errorf("%s: architecture %s: DeiT distillation (distillation_token, distillation_classifier) is not supported",
			hfConfigFile, spec.arch)
	default:
		return nil, fmt.Errorf("%s: architecture %s is not supported (want ViTForImageClassification or ViTModel)", hfConfigFile, spec.arch)
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if c.HiddenAct != nil && *c.HiddenAct != "gelu" {
		bad("hidden_act %q is not supported (only \"gelu\", the exact erf GELU)", *c.HiddenAct)
	}
	eps := 1e-12 // transformers' default
	if c.LayerNormEps != nil {
		eps = *c.LayerNormEps
	}
	if !(eps > 0 && eps < 1) {
		bad("layer_norm_eps %v must be in (0, 1)", eps)
	}
	channels := 3
	if c.NumChannels != nil {
		channels = *c.NumChannels
	}
	for _, f := range []struct {
		key string
		v   int
	}{{"hidden_size", c.HiddenSize}, {"num_hidden_layers", c.NumHiddenLayers}, {"num_attention_heads", c.NumAttentionHeads},
		{"intermediate_size", c.IntermediateSize}, {"num_channels", channels}} {
		if f.v <= 0 || f.v > maxWidth {
			bad("%s is %d, want 1..%d", f.key, f.v, maxWidth)
		}
	}
	var image, patch sizeHW
	if c.ImageSize == nil || c.PatchSize == nil {
		bad("image_size and patch_size are both needed")
	} else {
		image, patch = *c.ImageSize, *c.PatchSize
		if patch[0] != patch[1] {
			bad("patch_size %v is not square: the engine runs square patches", patch[:])
		}
		if min(image[0], image[1], patch[0]) <= 0 || max(image[0], image[1], patch[0]) > maxWidth {
			bad("image_size %v and patch_size %v must be in 1..%d", image[:], patch[:], maxWidth)
		}
	}
	if c.QKVBias != nil {
		spec.qkv = *c.QKVBias
	}
	labels, err := labelList(c.ID2Label)
	if err != nil {
		bad("%v", err)
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%s: %s", hfConfigFile, strings.Join(problems, "; "))
	}
	spec.labels = labels
	spec.cfg = vit.Config{ImageHeight: image[0], ImageWidth: image[1], Channels: channels, Patch: patch[0],
		Dim: c.HiddenSize, Heads: c.NumAttentionHeads, MLP: c.IntermediateSize, Depth: c.NumHiddenLayers,
		Classes: len(labels), Variant: vit.Baseline, LayerNormEps: eps}
	if pre == nil {
		spec.pre = exactPreprocess(spec.cfg, "bilinear")
		return spec, nil
	}
	if err := spec.parsePreprocessor(pre); err != nil {
		return nil, fmt.Errorf("%s: %v", hfPreprocessorFile, err)
	}
	return spec, nil
}

// labelList turns id2label into the list of names, which must number 0..n-1.
func labelList(id2label map[string]string) ([]string, error) {
	labels := make([]string, len(id2label))
	for k, v := range id2label {
		i, err := strconv.Atoi(k)
		if err != nil || i < 0 || i >= len(labels) || labels[i] != "" || strconv.Itoa(i) != k {
			return nil, fmt.Errorf("id2label: key %q: the keys must be the class indices 0..%d", k, len(labels)-1)
		}
		if v == "" {
			v = "LABEL_" + k
		}
		labels[i] = v
	}
	return labels, nil
}

// exactPreprocess resizes the whole image to the model's size.
func exactPreprocess(c vit.Config, interpolation string) dataset.Preprocess {
	p := dataset.TimmPreprocess(c.ImageHeight, c.ImageWidth, c.Channels)
	p.Resize, p.CropPct, p.Interpolation = dataset.ResizeExact, 1, interpolation
	return p
}

// pilResample maps PIL's resampling enum to the interpolations the engine has.
var pilResample = map[int]string{2: "bilinear", 3: "bicubic"}

func (spec *hfSpec) parsePreprocessor(data []byte) error {
	var p hfPreprocessor
	if err := decodeConfigJSON(hfPreprocessorFile, data, &p); err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), hfPreprocessorFile+": "))
	}
	c := spec.cfg
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if p.DoRescale != nil && !*p.DoRescale {
		bad("do_rescale false is not supported: the engine feeds pixel/255")
	} else if p.RescaleFactor != nil && math.Abs(*p.RescaleFactor-1./255) > 1e-9 {
		bad("rescale_factor %v is not supported: the engine feeds pixel/255", *p.RescaleFactor)
	}
	if p.DoNormalize != nil && !*p.DoNormalize {
		spec.norm = &dataset.Normalization{Mean: make([]float32, c.Channels), Std: slices.Repeat([]float32{1}, c.Channels)}
	} else if p.ImageMean != nil || p.ImageStd != nil {
		spec.norm = &dataset.Normalization{Mean: p.ImageMean, Std: p.ImageStd}
	}
	interpolation := ""
	if p.Resample == nil {
		bad("no resample (2 bilinear or 3 bicubic)")
	} else if interpolation = pilResample[*p.Resample]; interpolation == "" {
		bad("resample %d is not supported (2 bilinear or 3 bicubic)", *p.Resample)
	}
	pre := exactPreprocess(c, interpolation)
	resize := p.DoResize == nil || *p.DoResize
	crop := p.DoCenterCrop != nil && *p.DoCenterCrop
	size, shortest, err := hfSize(p.Size)
	switch {
	case err != nil:
		bad("size: %v", err)
	case resize && size == [2]int{}:
		bad("no size")
	}
	out := size
	if crop {
		cs, cshort, err := hfSize(p.CropSize)
		if err != nil || cshort || cs == [2]int{} {
			bad("do_center_crop needs crop_size {\"height\", \"width\"} or a number")
		}
		out = cs
	} else if shortest {
		bad("size shortest_edge without do_center_crop gives images of varying shapes: the model needs %dx%d", c.ImageHeight, c.ImageWidth)
	}
	if len(problems) == 0 && resize {
		if out != [2]int{c.ImageHeight, c.ImageWidth} {
			bad("the processed images are %dx%d, but config.json's image_size is %dx%d", out[0], out[1], c.ImageHeight, c.ImageWidth)
		} else if crop {
			if shortest {
				pre.Resize = dataset.ResizeShorter
			}
			pre.CropPct, err = cropPct(out, size, shortest)
			if err != nil {
				bad("%v", err)
			}
		}
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	spec.pre = pre
	return nil
}

// hfSize reads a processor size: {"height", "width"}, {"shortest_edge"} or a number.
func hfSize(raw json.RawMessage) (hw [2]int, shortest bool, err error) {
	if len(raw) == 0 || string(raw) == "null" {
		return hw, false, nil
	}
	var n int
	if json.Unmarshal(raw, &n) == nil {
		hw = [2]int{n, n}
	} else {
		var s struct {
			Height, Width *int
			ShortestEdge  *int `json:"shortest_edge"`
		}
		if err := json.Unmarshal(raw, &s); err != nil {
			return hw, false, fmt.Errorf("want {\"height\", \"width\"}, {\"shortest_edge\"} or a number, got %s", raw)
		}
		switch {
		case s.Height != nil && s.Width != nil && s.ShortestEdge == nil:
			hw = [2]int{*s.Height, *s.Width}
		case s.ShortestEdge != nil && s.Height == nil && s.Width == nil:
			hw, shortest = [2]int{*s.ShortestEdge, *s.ShortestEdge}, true
		default:
			return hw, false, fmt.Errorf("want {\"height\", \"width\"} or {\"shortest_edge\"}, got %s", raw)
		}
	}
	if hw[0] <= 0 || hw[1] <= 0 || hw[0] > maxWidth || hw[1] > maxWidth {
		return hw, false, fmt.Errorf("%dx%d is not a size", hw[0], hw[1])
	}
	return hw, shortest, nil
}

// cropPct is the fraction a centre crop of crop keeps of an image resized to
// size (when shortest, the shorter side resized to size[0]), as
// dataset.Preprocess expresses it: floor(crop/CropPct) must give back size.
func cropPct(crop, size [2]int, shortest bool) (float64, error) {
	if crop[0] > size[0] || crop[1] > size[1] {
		return 0, fmt.Errorf("crop_size %dx%d is larger than the resized %dx%d", crop[0], crop[1], size[0], size[1])
	}
	pct := float64(crop[0]) / float64(size[0])
	for range 4 { // rounding can put floor(crop/pct) one below size
		if math.Floor(float64(crop[0])/pct) >= float64(size[0]) {
			break
		}
		pct = math.Nextafter(pct, 0)
	}
	if !shortest && math.Floor(float64(crop[1])/pct) != float64(size[1]) {
		return 0, fmt.Errorf("the crop %dx%d keeps different fractions of the resized %dx%d in height and width", crop[0], crop[1], size[0], size[1])
	}
	return pct, nil
}

// decodeConfigJSON decodes a published model's JSON file: unknown keys are
// allowed (such files carry many that do not change inference), values of
// the wrong type are errors naming the key.
func decodeConfigJSON(file string, data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return fmt.Errorf("%s: %s is %s, want %s", file, te.Field, withArticle(te.Value), jsonTypeName(te.Type.String()))
		}
		return fmt.Errorf("%s: not valid JSON: %v", file, strings.TrimPrefix(err.Error(), "json: "))
	}
	if dec.More() {
		return fmt.Errorf("%s: trailing data after the JSON object", file)
	}
	return nil
}

func withArticle(noun string) string {
	if noun != "" && strings.ContainsRune("aeiou", rune(noun[0])) {
		return "an " + noun
	}
	return "a " + noun
}

// jsonTypeName names a Go type as the JSON value it decodes from.
func jsonTypeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"), strings.HasPrefix(goType, "workflow.sizeHW"):
		return "an array"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "struct"):
		return "an object"
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	case strings.Contains(goType, "bool"):
		return "true or false"
	case strings.Contains(goType, "string"):
		return "a string"
	}
	return goType
}
