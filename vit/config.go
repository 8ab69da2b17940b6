package vit

import (
	"fmt"
	"strings"
)

// Variant names how a model is trained: which block orders it sees and
// which extra parts its blocks carry (see layershuffle-brief.md).
type Variant string

const (
	Baseline        Variant = "baseline"
	Shuffle         Variant = "shuffle"
	ShufflePosition Variant = "shuffle-position"
	ShufflePredict  Variant = "shuffle-predict"
	LayerDrop       Variant = "layerdrop"
)

// Variants lists every variant in the order the CLI documents them.
var Variants = []Variant{Baseline, Shuffle, ShufflePosition, ShufflePredict, LayerDrop}

// ParseVariant accepts a variant name as typed on the command line.
func ParseVariant(s string) (Variant, error) {
	for _, v := range Variants {
		if string(v) == s {
			return v, nil
		}
	}
	names := make([]string, len(Variants))
	for i, v := range Variants {
		names[i] = string(v)
	}
	return "", fmt.Errorf("unknown variant %q (want one of %s)", s, strings.Join(names, ", "))
}

// Shuffled reports whether training draws random block orders.
func (v Variant) Shuffled() bool {
	return v == Shuffle || v == ShufflePosition || v == ShufflePredict
}

// HasPositionProjection reports whether blocks carry pos_proj and the stem layer_pos_embed.
func (v Variant) HasPositionProjection() bool { return v == ShufflePosition }

// HasPositionHead reports whether blocks carry a pos_head predicting their slot.
func (v Variant) HasPositionHead() bool { return v == ShufflePredict }

// Config fixes every size of a model. It is stored in each manifest.
type Config struct {
	ImageHeight int     `json:"image_height"`
	ImageWidth  int     `json:"image_width"`
	Channels    int     `json:"channels"`
	Patch       int     `json:"patch"`
	Dim         int     `json:"dim"`
	Heads       int     `json:"heads"`
	MLP         int     `json:"mlp"`
	Depth       int     `json:"depth"`
	Classes     int     `json:"classes"`
	Variant     Variant `json:"variant"`
	// PosDim is the width P of the slot embedding table layer_pos_embed [Depth, P]
	// of the shuffle-position variant (the paper uses 32 at width 768).
	PosDim int `json:"pos_dim,omitempty"`
	// Tasks names the tasks of a multi-task model (data specs, e.g. mnist,
	// fashion-mnist, mnist@rot90), one head per task: the classifier's
	// Classes rows are len(Tasks) consecutive groups of ClassesPerTask(),
	// task k's rows k*C .. k*C+C-1. The final LayerNorm is shared, as it is
	// part of timm's backbone. Empty: one task.
	Tasks []string `json:"tasks,omitempty"`
	// LayerNormEps is the epsilon of every LayerNorm; 0 means timm's
	// LayerNormEps (1e-6). Hugging Face ViTs use 1e-12.
	LayerNormEps float64 `json:"layer_norm_eps,omitempty"`
}

// Eps is the LayerNorm epsilon the model runs with.
func (c Config) Eps() float32 {
	if c.LayerNormEps > 0 {
		return float32(c.LayerNormEps)
	}
	return LayerNormEps
}

// NumTasks is the number of heads: len(Tasks), or 1.
func (c Config) NumTasks() int { return max(1, len(c.Tasks)) }

// ClassesPerTask is the number of classes one task's head predicts.
func (c Config) ClassesPerTask() int { return c.Classes / c.NumTasks() }

// TaskIndex is the index of task in Tasks, or -1.
func (c Config) TaskIndex(task string) int {
	for i, t := range c.Tasks {
		if t == task {
			return i
		}
	}
	return -1
}

// LayerNormEps is timm's ViT LayerNorm epsilon.
const LayerNormEps = 1e-6

// DefaultPosDim is the slot-embedding width used when none is given.
const DefaultPosDim = 16

// DefaultConfig is the small MNIST-sized ViT of design.md.
func DefaultConfig() Config {
	return Config{ImageHeight: 28, ImageWidth: 28, Channels: 1, Patch: 7, Dim: 64, Heads: 4, MLP: 128,
		Depth: 6, Classes: 10, Variant: Baseline}
}

// GridH is the number of patch rows.
func (c Config) GridH() int { return c.ImageHeight / c.Patch }

// GridW is the number of patch columns.
func (c Config) GridW() int { return c.ImageWidth / c.Patch }

// Patches is the number of patch tokens N.
func (c Config) Patches() int { return c.GridH() * c.GridW() }

// Tokens is N+1: the patches plus the class token.
func (c Config) Tokens() int { return c.Patches() + 1 }

// PatchSize is C*P*P, the length of one flattened patch.
func (c Config) PatchSize() int { return c.Channels * c.Patch * c.Patch }

// ImageSize is C*H*W.
func (c Config) ImageSize() int { return c.Channels * c.ImageHeight * c.ImageWidth }

// Bounds far past any real ViT (ViT-H: width 1280, MLP 5120, 632M
// weights). A config beyond them is a typo or a corrupt manifest, refused
// before anything is allocated: building it would exhaust memory instead of
// saying what is wrong.
const (
	MaxSize      = 1 << 16 // any one size: image side, channels, patch, dim, heads, MLP, depth, classes, pos dim
	MaxTokens    = 1 << 16 // patches + 1
	MaxImageSize = 1 << 28 // values per image, C·H·W
	MaxWeights   = 1 << 30 // 4 GB of float32, three and a half ViT-Ls
)

// Validate reports every size that cannot build a model, in one error.
func (c Config) Validate() error {
	var problems []string
	sizes := map[string]int{"image height": c.ImageHeight, "image width": c.ImageWidth, "channels": c.Channels,
		"patch": c.Patch, "dim": c.Dim, "heads": c.Heads, "mlp": c.MLP, "depth": c.Depth, "classes": c.Classes}
	for _, k := range []string{"image height", "image width", "channels", "patch", "dim", "heads", "mlp", "depth", "classes"} {
		if sizes[k] <= 0 {
			problems = append(problems, fmt.Sprintf("%s must be positive, got %d", k, sizes[k]))
		}
		if sizes[k] > MaxSize {
			problems = append(problems, fmt.Sprintf("%s %d is over the limit of %d", k, sizes[k], MaxSize))
		}
	}
	if c.PosDim > MaxSize {
		problems = append(problems, fmt.Sprintf("pos dim %d is over the limit of %d", c.PosDim, MaxSize))
	}
	if len(problems) == 0 {
		problems = c.checkTotals()
	}
	if c.Patch > 0 && c.ImageHeight > 0 && c.ImageWidth > 0 && (c.ImageHeight%c.Patch != 0 || c.ImageWidth%c.Patch != 0) {
		problems = append(problems, fmt.Sprintf("patch %d does not divide the %dx%d image", c.Patch, c.ImageHeight, c.ImageWidth))
	}
	if c.Heads > 0 && c.Dim > 0 && c.Dim%c.Heads != 0 {
		problems = append(problems, fmt.Sprintf("heads %d does not divide dim %d", c.Heads, c.Dim))
	}
	if _, err := ParseVariant(string(c.Variant)); err != nil {
		problems = append(problems, err.Error())
	}
	if n := len(c.Tasks); n > 0 && c.Classes > 0 && c.Classes%n != 0 {
		problems = append(problems, fmt.Sprintf("%d classes cannot be split into %d task heads", c.Classes, n))
	}
	for i, t := range c.Tasks {
		if t == "" {
			problems = append(problems, fmt.Sprintf("task %d has no name", i+1))
		}
		if j := c.TaskIndex(t); j < i {
			problems = append(problems, fmt.Sprintf("task %q given twice", t))
		}
	}
	if c.LayerNormEps < 0 || c.LayerNormEps >= 1 || c.LayerNormEps != c.LayerNormEps {
		problems = append(problems, fmt.Sprintf("layer norm eps must be in [0, 1), got %g", c.LayerNormEps))
	}
	if c.Variant.HasPositionProjection() && c.PosDim <= 0 {
		problems = append(problems, fmt.Sprintf("shuffle-position needs a positive pos dim, got %d", c.PosDim))
	}
	if len(problems) > 0 {
		return fmt.Errorf("invalid model config: %s", strings.Join(problems, "; "))
	}
	return nil
}

// checkTotals bounds the products of sizes that are each within MaxSize
// (in float64: such products can overflow an int).
func (c Config) checkTotals() []string {
	var problems []string
	if values := float64(c.Channels) * float64(c.ImageHeight) * float64(c.ImageWidth); values > MaxImageSize {
		problems = append(problems, fmt.Sprintf("a %dx%dx%d image has %.3g values, over the limit of %d",
			c.Channels, c.ImageHeight, c.ImageWidth, values, MaxImageSize))
	}
	if c.Tokens() > MaxTokens {
		problems = append(problems, fmt.Sprintf("%d tokens (patch %d on %dx%d) is over the limit of %d",
			c.Tokens(), c.Patch, c.ImageHeight, c.ImageWidth, MaxTokens))
	}
	if n := c.Weights(); n > MaxWeights {
		problems = append(problems, fmt.Sprintf("sizes beyond any model: %.3g weights (dim %d, MLP %d, depth %d), over the limit of %d",
			n, c.Dim, c.MLP, c.Depth, MaxWeights))
	}
	return problems
}

// Weights is the number of weights NewModel allocates for c (per tensor as
// NewModel adds them), in float64 so that no size overflows it.
func (c Config) Weights() float64 {
	d, m, depth := float64(c.Dim), float64(c.MLP), float64(c.Depth)
	tokens := float64(c.ImageHeight/max(c.Patch, 1))*float64(c.ImageWidth/max(c.Patch, 1)) + 1
	stem := d*float64(c.Channels)*float64(c.Patch)*float64(c.Patch) + d + d + tokens*d
	block := 2*d + (3*d*d + 3*d) + (d*d + d) + 2*d + (m*d + m) + (d*m + d)
	if c.Variant.HasPositionProjection() {
		p := d + float64(c.PosDim)
		stem += depth * float64(c.PosDim)
		block += 2*p + d*p + d
	}
	if c.Variant.HasPositionHead() {
		block += 2*d + depth*d + depth
	}
	head := 2*d + float64(c.Classes)*d + float64(c.Classes)
	return stem + depth*block + head
}
