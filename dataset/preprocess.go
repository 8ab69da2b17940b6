package dataset

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Preprocess says how a full-size image becomes a model input, as a
// pretrained checkpoint's preprocessing says it (timm's pretrained_cfg, or
// Hugging Face's preprocessor_config.json). For evaluation:
//
//	resize "shorter": the shorter side is resized to floor(Height/CropPct)
//	                  (the aspect ratio kept), then the centre Height x Width
//	                  is cropped (timm's eval transform, crop_mode "center");
//	resize "exact":   the whole image is resized to floor(Height/CropPct) x
//	                  floor(Width/CropPct), the aspect ratio ignored, then the
//	                  centre Height x Width is cropped: with CropPct 1 Hugging
//	                  Face's ViTImageProcessor (no crop), with 224/256 its
//	                  DeiT processor (resize 256x256, centre crop 224), and
//	                  timm's crop_mode "squash".
//
// Training draws a RandomResizedCrop (Scale, Ratio; timm's defaults
// [0.08, 1] and [3/4, 4/3]) resized to Height x Width, flipped horizontally
// with probability FlipP. Images are converted to the model's Channels:
// grey replicated to RGB, RGB to grey by ITU-R 601-2 luma (as PIL's "L").
type Preprocess struct {
	Height        int        `json:"height"`
	Width         int        `json:"width"`
	Channels      int        `json:"channels"`
	Resize        string     `json:"resize"`        // "shorter" or "exact"
	CropPct       float64    `json:"crop_pct"`      // in (0, 1]
	Interpolation string     `json:"interpolation"` // "bilinear" or "bicubic"
	Scale         [2]float64 `json:"scale"`         // RandomResizedCrop area fraction
	Ratio         [2]float64 `json:"ratio"`         // RandomResizedCrop aspect ratio
	FlipP         float64    `json:"flip_p"`        // horizontal flip probability in training
}

// ParseImageSize reads an image size written HEIGHTxWIDTH (e.g. 224x224).
func ParseImageSize(s string) ([2]int, error) {
	h, w, ok := strings.Cut(s, "x")
	hi, err1 := strconv.Atoi(h)
	wi, err2 := strconv.Atoi(w)
	if !ok || err1 != nil || err2 != nil || hi <= 0 || wi <= 0 {
		return [2]int{}, fmt.Errorf("%q: want HEIGHTxWIDTH, e.g. 224x224", s)
	}
	return [2]int{hi, wi}, nil
}

// IsZero reports whether p is the zero Preprocess: no full-size reading.
func (p Preprocess) IsZero() bool { return p == Preprocess{} }

// Resize modes of Preprocess.
const (
	ResizeShorter = "shorter"
	ResizeExact   = "exact"
)

// TimmPreprocess is timm's default for ViTs at h x w: bicubic, crop_pct
// 0.9, RandomResizedCrop(scale 0.08..1, ratio 3/4..4/3) and flips.
func TimmPreprocess(h, w, channels int) Preprocess {
	return Preprocess{Height: h, Width: w, Channels: channels, Resize: ResizeShorter, CropPct: 0.9,
		Interpolation: "bicubic", Scale: [2]float64{0.08, 1}, Ratio: [2]float64{3. / 4, 4. / 3}, FlipP: 0.5}
}

// Validate reports every bad field at once.
func (p Preprocess) Validate() error {
	var problems []string
	if p.Height <= 0 || p.Width <= 0 {
		problems = append(problems, fmt.Sprintf("size %dx%d must be positive", p.Height, p.Width))
	}
	if p.Channels != 1 && p.Channels != 3 {
		problems = append(problems, fmt.Sprintf("channels must be 1 or 3, got %d", p.Channels))
	}
	if !(p.CropPct > 0 && p.CropPct <= 1) {
		problems = append(problems, fmt.Sprintf("crop_pct must be in (0, 1], got %g", p.CropPct))
	}
	switch p.Resize {
	case ResizeShorter, ResizeExact:
	default:
		problems = append(problems, fmt.Sprintf("resize must be %s or %s, got %q", ResizeShorter, ResizeExact, p.Resize))
	}
	if p.Interpolation != "bilinear" && p.Interpolation != "bicubic" {
		problems = append(problems, fmt.Sprintf("interpolation must be bilinear or bicubic, got %q", p.Interpolation))
	}
	if !(p.Scale[0] > 0 && p.Scale[0] <= p.Scale[1] && p.Scale[1] <= 1) {
		problems = append(problems, fmt.Sprintf("scale must satisfy 0 < min <= max <= 1, got %v", p.Scale))
	}
	if !(p.Ratio[0] > 0 && p.Ratio[0] <= p.Ratio[1]) || math.IsInf(p.Ratio[1], 0) {
		problems = append(problems, fmt.Sprintf("ratio must satisfy 0 < min <= max, got %v", p.Ratio))
	}
	if !(p.FlipP >= 0 && p.FlipP <= 1) {
		problems = append(problems, fmt.Sprintf("flip_p must be in [0, 1], got %g", p.FlipP))
	}
	if len(problems) > 0 {
		return fmt.Errorf("dataset: preprocessing: %s", strings.Join(problems, "; "))
	}
	return nil
}
