package workflow

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/vit"
)

// The tensor layouts of published ViTs, each as one table: timm's names are
// ours (a check of what the engine runs), Hugging Face's map onto them.

// tensorRule classifies a tensor name the mapping does not take: refused
// (the engine cannot run what it does) or dropped (inference does not use it).
type tensorRule struct {
	re     *regexp.Regexp
	refuse bool
	why    string
}

func rule(pattern string, refuse bool, why string) tensorRule {
	return tensorRule{regexp.MustCompile("^" + pattern), refuse, why}
}

// timmRules: what timm's VisionTransformer can carry that frankenvit's ViT does not run.
var timmRules = []tensorRule{
	rule(`reg_token$`, true, "register tokens are not supported"),
	rule(`fc_norm\.`, true, "global average pooling (fc_norm) is not supported: the engine classifies from the class token"),
	rule(`dist_token$`, true, "DeiT distillation (a distillation token) is not supported"),
	rule(`head_dist\.`, true, "DeiT distillation (a distillation head) is not supported"),
	rule(`blocks\.\d+\.ls[12]\.gamma$`, true, "layer scale is not supported"),
	rule(`blocks\.\d+\.attn\.[qk]_norm\.`, true, "qk norm is not supported"),
	rule(`norm_pre\.`, true, "a LayerNorm before the blocks (norm_pre) is not supported"),
	rule(`patch_embed\.norm\.`, true, "a LayerNorm in the patch embedding is not supported"),
	rule(`attn_pool\.`, true, "attention pooling is not supported: the engine classifies from the class token"),
}

// timmKnown are the names frankenvit's models have (the variants' extras included).
var timmKnown = regexp.MustCompile(`^(cls_token|pos_embed|layer_pos_embed|` +
	`(patch_embed\.proj|norm|head)\.(weight|bias)|` +
	`blocks\.\d+\.(norm1|attn\.qkv|attn\.proj|norm2|mlp\.fc1|mlp\.fc2|pos_proj\.norm|pos_proj\.fc|pos_head\.norm|pos_head\.fc)\.(weight|bias))$`)

// checkTimmNames reports every tensor of a timm-named file that the engine
// does not run, and a missing class token.
func checkTimmNames(ts checkpoint.Tensors) []string {
	var problems []string
	if _, ok := ts["cls_token"]; !ok {
		problems = append(problems, "there is no class token (cls_token): the engine classifies from the class token")
	}
	for _, name := range ts.Names() {
		if timmKnown.MatchString(name) {
			continue
		}
		problems = append(problems, unmappedTensor(name, name, timmRules, nil))
	}
	return problems
}

// unmappedTensor says why tensor name (rel: the name without the layout's
// prefix) is not taken, or "" when a rule drops it (logged).
func unmappedTensor(name, rel string, rules []tensorRule, log func(string, ...any)) string {
	for _, r := range rules {
		if !r.re.MatchString(rel) {
			continue
		}
		if r.refuse {
			return fmt.Sprintf("tensor %s: %s", name, r.why)
		}
		if log != nil {
			log("dropped %s: %s", name, r.why)
		}
		return ""
	}
	return fmt.Sprintf("tensor %s is not part of a ViT this engine runs", name)
}

// hfTensor is one entry of the Hugging Face table: the HF name (relative to
// the model's prefix, "{i}" the block index), ours, and for the separate
// query, key and value the part (0, 1, 2) of our fused attn.qkv they are;
// -1 for a whole tensor.
type hfTensor struct {
	hf, timm string
	part     int
}

// hfLayout is the table between Hugging Face's ViTModel/ViTForImageClassification
// (and DeiT's) names and ours; the classifier's names carry no prefix.
var hfLayout = func() []hfTensor {
	var out []hfTensor
	add := func(hf, timm string, part int, params ...string) {
		for _, p := range params {
			out = append(out, hfTensor{hf + p, timm + p, part})
		}
	}
	add("embeddings.cls_token", "cls_token", -1, "")
	add("embeddings.position_embeddings", "pos_embed", -1, "")
	add("embeddings.patch_embeddings.projection", "patch_embed.proj", -1, ".weight", ".bias")
	for _, m := range []struct {
		hf, timm string
		part     int
	}{
		{"layernorm_before", "norm1", -1},
		{"attention.attention.query", "attn.qkv", 0},
		{"attention.attention.key", "attn.qkv", 1},
		{"attention.attention.value", "attn.qkv", 2},
		{"attention.output.dense", "attn.proj", -1},
		{"layernorm_after", "norm2", -1},
		{"intermediate.dense", "mlp.fc1", -1},
		{"output.dense", "mlp.fc2", -1},
	} {
		add("encoder.layer.{i}."+m.hf, "blocks.{i}."+m.timm, m.part, ".weight", ".bias")
	}
	add("layernorm", "norm", -1, ".weight", ".bias")
	add("classifier", "head", -1, ".weight", ".bias")
	return out
}()

// hfRules: the HF tensors (relative to the prefix) the table does not take.
var hfRules = []tensorRule{
	rule(`embeddings\.distillation_token$`, true, "DeiT distillation is not supported (Hugging Face's DeiT models "+
		"always run a distillation token; the non-distilled DeiTs are published as ViT models, which import)"),
	rule(`(distillation_classifier|cls_classifier)\.`, true, "DeiT distillation (DeiTForImageClassificationWithTeacher) is not supported"),
	rule(`pooler\.dense\.`, false, "ViTModel's pooler, which the classification model does not use"),
	rule(`embeddings\.mask_token$`, false, "the mask token of masked image modelling, unused in classification"),
}

// hfNames expands the table for depth blocks: HF name (with prefix) to entry.
func hfNames(depth int, prefix string, withHead bool) []hfTensor {
	var out []hfTensor
	for _, e := range hfLayout {
		isHead := strings.HasPrefix(e.timm, "head.")
		if isHead && !withHead {
			continue
		}
		p := prefix
		if isHead {
			p = ""
		}
		if !strings.Contains(e.hf, "{i}") {
			out = append(out, hfTensor{p + e.hf, e.timm, e.part})
			continue
		}
		for i := 0; i < depth; i++ {
			idx := strconv.Itoa(i)
			out = append(out, hfTensor{p + strings.ReplaceAll(e.hf, "{i}", idx), strings.ReplaceAll(e.timm, "{i}", idx), e.part})
		}
	}
	return out
}

// timmShapes are the shapes, by timm's names, of the tensors of a baseline
// model of config c.
func timmShapes(c vit.Config) map[string][]int {
	d, m := c.Dim, c.MLP
	shapes := map[string][]int{
		"patch_embed.proj.weight": {d, c.Channels, c.Patch, c.Patch}, "patch_embed.proj.bias": {d},
		"cls_token": {1, 1, d}, "pos_embed": {1, c.Tokens(), d},
		"norm.weight": {d}, "norm.bias": {d}, "head.weight": {c.Classes, d}, "head.bias": {c.Classes},
	}
	for i := 0; i < c.Depth; i++ {
		p := "blocks." + strconv.Itoa(i) + "."
		for name, shape := range map[string][]int{
			"norm1.weight": {d}, "norm1.bias": {d}, "attn.qkv.weight": {3 * d, d}, "attn.qkv.bias": {3 * d},
			"attn.proj.weight": {d, d}, "attn.proj.bias": {d}, "norm2.weight": {d}, "norm2.bias": {d},
			"mlp.fc1.weight": {m, d}, "mlp.fc1.bias": {m}, "mlp.fc2.weight": {d, m}, "mlp.fc2.bias": {d},
		} {
			shapes[p+name] = shape
		}
	}
	return shapes
}

// partShape is the shape of one of q, k, v of a fused qkv tensor.
func partShape(fused []int, part int) []int {
	if part < 0 {
		return fused
	}
	out := slices.Clone(fused)
	out[0] /= 3
	return out
}

// hfToTimm maps a Hugging Face model's tensors (prefix "vit.", "deit." or
// "") onto ours for config c, checking every tensor's shape against c. It
// returns the problems (each naming the HF tensor) instead of stopping at
// the first. Missing query/key/value biases are zeros when qkvBias is false.
func hfToTimm(ts checkpoint.Tensors, prefix string, c vit.Config, withHead, qkvBias bool, log func(string, ...any)) (checkpoint.Tensors, []string) {
	shapes := timmShapes(c)
	out := checkpoint.Tensors{}
	used := map[string]bool{}
	var problems []string
	for _, e := range hfNames(c.Depth, prefix, withHead) {
		want := partShape(shapes[e.timm], e.part)
		t, ok := ts[e.hf]
		switch {
		case !ok && e.part >= 0 && strings.HasSuffix(e.hf, ".bias") && !qkvBias:
			t = checkpoint.Tensor{Shape: want, Data: make([]float32, shapeSize(want))}
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is missing (want shape %v)", e.hf, want))
			continue
		}
		used[e.hf] = true
		if !slices.Equal(t.Shape, want) {
			problems = append(problems, fmt.Sprintf("%s has shape %v, want %v", e.hf, t.Shape, want))
			continue
		}
		if e.part < 0 {
			out[e.timm] = t
			continue
		}
		fused, ok := out[e.timm]
		if !ok {
			fused = checkpoint.Tensor{Shape: shapes[e.timm], Data: make([]float32, shapeSize(shapes[e.timm]))}
			out[e.timm] = fused
		}
		copy(fused.Data[e.part*len(t.Data):], t.Data)
	}
	for _, name := range ts.Names() {
		if used[name] {
			continue
		}
		rel := strings.TrimPrefix(name, prefix)
		if !withHead && strings.HasPrefix(name, "classifier.") {
			log("dropped %s: replaced by the new head", name)
			continue
		}
		if p := unmappedTensor(name, rel, hfRules, log); p != "" {
			problems = append(problems, p)
		}
	}
	return out, problems
}

// timmToHF is hfToTimm's inverse for export: our names (blocks.0..depth-1)
// to Hugging Face's with prefix, the fused qkv split into query, key, value.
func timmToHF(ts checkpoint.Tensors, depth int, prefix string) checkpoint.Tensors {
	out := checkpoint.Tensors{}
	for _, e := range hfNames(depth, prefix, true) {
		t := ts[e.timm]
		if e.part < 0 {
			out[e.hf] = t
			continue
		}
		n := len(t.Data) / 3
		out[e.hf] = checkpoint.Tensor{Shape: partShape(t.Shape, e.part), Data: t.Data[e.part*n : (e.part+1)*n]}
	}
	return out
}

func shapeSize(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
