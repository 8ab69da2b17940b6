package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

// ImportRequest is everything `frankenvit store import` needs. File is a
// safetensors file with timm's names (a frankenvit export, or a bare timm
// file), or a published model folder: timm's hub layout (model.safetensors
// and config.json with a pretrained_cfg) or Hugging Face's (config.json of
// a ViT, preprocessor_config.json, model.safetensors or shards). What the
// files do not say, and the shapes cannot (the number of heads, the image
// size of a non-square grid, the normalisation), comes from these fields; a
// value given here overrides the metadata of a single file.
type ImportRequest struct {
	File, Name string
	Heads      int       // attention heads
	Image      [2]int    // image height, width; 0 = a square grid
	Variant    string    // default: inferred from the tensors present
	Data       string    // the data set the model reads
	Mean, Std  []float32 // per-channel input normalisation
	// NewHead, when positive, replaces the classifier (or gives one to a
	// model without, as Hugging Face's ViTModel) by a zero-initialised head
	// of NewHead classes, to be trained.
	NewHead int
	Log     io.Writer // what the import decides on its own (heads, dropped tensors); nil for none
}

// Import formats, as the manifest's origin records them.
const (
	FormatFrankenvit = "frankenvit"
	FormatTimm       = "timm"
	FormatHF         = "hf"
)

// source is a checkpoint read and mapped onto our names, with what its
// files say about it.
type source struct {
	format string
	ts     checkpoint.Tensors // timm's names
	meta   map[string]string  // a single file's metadata
	cfg    *vit.Config        // complete (Hugging Face); nil: from the metadata or the shapes
	timm   *timmSpec          // a timm hub folder's config.json
	norm   *dataset.Normalization
	pre    *dataset.Preprocess
	labels []string
}

// Import stores a pretrained ViT as a model. Every tensor is checked
// against the config, and everything the engine does not run is named,
// before anything is stored.
func Import(s *checkpoint.Store, req ImportRequest) (*checkpoint.Manifest, error) {
	if err := checkpoint.ValidName(req.Name); err != nil {
		return nil, err
	}
	if s.Exists(req.Name) {
		return nil, fmt.Errorf("model %s already exists in store %s", req.Name, s.Dir)
	}
	logf := logTo(req.Log)
	src, err := readSource(req.File, req.NewHead > 0, logf)
	if err != nil {
		return nil, fmt.Errorf("import %s: %v", req.File, err)
	}
	m, man, err := src.model(req, logf)
	if err != nil {
		return nil, fmt.Errorf("import %s: %v", req.File, err)
	}
	return man, s.WithSharedLock(func() error {
		if err := modelstore.PutWeights(s, m, man); err != nil {
			return err
		}
		return s.Create(man)
	})
}

// logTo prints one line per call to w; nil prints nothing.
func logTo(w io.Writer) func(format string, args ...any) {
	return func(format string, args ...any) {
		if w != nil {
			fmt.Fprintf(w, format+"\n", args...)
		}
	}
}

// readSource reads a file or folder and maps its tensors onto our names.
func readSource(path string, newHead bool, logf func(string, ...any)) (*source, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		ts, meta, err := checkpoint.ReadSafetensorsFile(path)
		if err != nil {
			return nil, err
		}
		src := &source{format: FormatFrankenvit, ts: ts, meta: meta}
		if meta[checkpoint.MetaConfig] == "" {
			src.format = FormatTimm
		}
		return src, joinProblems("the file holds what the engine does not run", checkTimmNames(ts))
	}
	config, err := os.ReadFile(filepath.Join(path, hfConfigFile))
	if err != nil {
		return nil, fmt.Errorf("a model folder needs %s (timm's hub layout or Hugging Face's): %v", hfConfigFile, err)
	}
	var probe struct {
		ModelType json.RawMessage `json:"model_type"`
	}
	if err := decodeConfigJSON(hfConfigFile, config, &probe); err != nil {
		return nil, err
	}
	if probe.ModelType != nil {
		return readHF(path, config, newHead, logf)
	}
	return readTimmHub(path, config)
}

// readTimmHub reads a timm hub folder.
func readTimmHub(dir string, config []byte) (*source, error) {
	spec, err := parseTimmConfig(config)
	if err != nil {
		return nil, err
	}
	ts, err := checkpoint.ReadSafetensorsFolder(dir)
	if err != nil {
		return nil, err
	}
	if err := joinProblems("the folder holds what the engine does not run", checkTimmNames(ts)); err != nil {
		return nil, err
	}
	if !spec.qkv { // timm's qkv_bias=False: no bias tensors, zeros
		for name, t := range ts {
			if block, ok := strings.CutSuffix(name, "attn.qkv.weight"); ok && len(t.Shape) == 2 {
				if _, has := ts[block+"attn.qkv.bias"]; !has {
					ts[block+"attn.qkv.bias"] = checkpoint.Tensor{Shape: t.Shape[:1], Data: make([]float32, t.Shape[0])}
				}
			}
		}
	}
	return &source{format: FormatTimm, ts: ts, timm: spec, norm: spec.norm, pre: spec.pre, labels: spec.labels}, nil
}

// readHF reads a Hugging Face folder.
func readHF(dir string, config []byte, newHead bool, logf func(string, ...any)) (*source, error) {
	pre, err := os.ReadFile(filepath.Join(dir, hfPreprocessorFile))
	if errors.Is(err, os.ErrNotExist) {
		pre = nil
		logf("no %s: images are resized to the model's size (bilinear)", hfPreprocessorFile)
	} else if err != nil {
		return nil, err
	}
	spec, err := parseHFConfig(config, pre)
	if err != nil {
		return nil, err
	}
	ts, err := checkpoint.ReadSafetensorsFolder(dir)
	if err != nil {
		return nil, err
	}
	prefix := spec.prefix
	for _, p := range []string{spec.prefix, "vit.", "deit.", ""} { // a folder saved without "architectures"
		if _, ok := ts[p+"embeddings.cls_token"]; ok {
			prefix = p
			break
		}
	}
	cfg := spec.cfg
	withHead := !newHead
	if withHead {
		cls, ok := ts["classifier.weight"]
		if !ok {
			return nil, fmt.Errorf("the model has no classifier (classifier.weight; %s): import it with --new-head N, "+
				"a zero-initialised head of N classes to train", firstNonEmpty(spec.arch, "a ViTModel"))
		}
		if len(spec.labels) == 0 && len(cls.Shape) == 2 {
			cfg.Classes = cls.Shape[0]
		}
	}
	ts, problems := hfToTimm(ts, prefix, cfg, withHead, spec.qkv, logf)
	if err := joinProblems(fmt.Sprintf("the tensors do not match %s (%s)", hfConfigFile, modelstore.DescribeConfig(cfg)), problems); err != nil {
		return nil, err
	}
	src := &source{format: FormatHF, ts: ts, cfg: &cfg, norm: spec.norm, pre: &spec.pre, labels: spec.labels}
	return src, nil
}

// joinProblems is nil without problems, else one error listing them all.
func joinProblems(what string, problems []string) error {
	if len(problems) == 0 {
		return nil
	}
	return fmt.Errorf("%s: %s", what, strings.Join(problems, "; "))
}

// model builds the model and its manifest from a source.
func (src *source) model(req ImportRequest, logf func(string, ...any)) (*vit.Model, *checkpoint.Manifest, error) {
	if req.NewHead > 0 {
		if err := src.replaceHead(req.NewHead, logf); err != nil {
			return nil, nil, err
		}
	}
	if _, ok := src.ts["head.weight"]; !ok {
		return nil, nil, errors.New("the model has no classifier (head.weight): import it with --new-head N, a zero-initialised head of N classes to train")
	}
	stem, blocks, head, err := checkpoint.SplitExported(src.ts)
	if err != nil {
		return nil, nil, err
	}
	var cfg vit.Config
	if src.cfg != nil {
		cfg = *src.cfg
	} else if cfg, err = importConfig(req, src, stem, blocks, head, logf); err != nil {
		return nil, nil, err
	}
	norm, err := importNormalization(req, src, cfg.Channels)
	if err != nil {
		return nil, nil, err
	}
	if src.pre != nil {
		if err := checkPreprocess(*src.pre, cfg); err != nil {
			return nil, nil, err
		}
	}
	if len(src.labels) > 0 && len(src.labels) != cfg.Classes {
		return nil, nil, fmt.Errorf("%d label names for %d classes", len(src.labels), cfg.Classes)
	}
	m, err := vit.NewModel(req.Name, cfg)
	if err != nil {
		return nil, nil, err
	}
	var problems []string
	problems = append(problems, modelstore.FillParams("stem", m.Stem.Params(), stem)...)
	// The file's blocks are the plan, which may be shorter or longer than
	// the depth the stem was made for (a pruned or spliced model), and its
	// blocks may carry other variants' extras.
	m.Blocks = m.Blocks[:0]
	for i, ts := range blocks {
		spec := modelstore.BlockSpec(cfg, ts)
		spec.MLP = cfg.MLP // every block must have the config's sizes; only the extras may vary
		b := vit.NewBlock(spec, req.Name, i)
		problems = append(problems, modelstore.FillParams(fmt.Sprintf("block %d", i), b.Params(), ts)...)
		m.Blocks = append(m.Blocks, b)
	}
	problems = append(problems, modelstore.FillParams("head", m.Head.Params(), head)...)
	if err := joinProblems(fmt.Sprintf("the tensors do not match the config (%s)", modelstore.DescribeConfig(cfg)), problems); err != nil {
		return nil, nil, err
	}
	man := &checkpoint.Manifest{FormatVersion: 1, Name: req.Name, CreatedAt: time.Now().UTC(), Status: "complete",
		Data: firstNonEmpty(req.Data, src.meta[checkpoint.MetaData])}
	man.Normalization, _ = json.Marshal(norm)
	if src.pre != nil {
		man.Preprocess, _ = json.Marshal(src.pre)
	}
	man.Training, _ = json.Marshal(importOrigin{ImportedFrom: req.File, Format: src.format, Labels: src.labels})
	return m, man, nil
}

// importOrigin is the training record of an imported model: where it came from.
type importOrigin struct {
	ImportedFrom string   `json:"imported_from"`
	Format       string   `json:"format"`
	Labels       []string `json:"labels,omitempty"`
}

// replaceHead drops the classifier (if any) for a zero one of n classes.
func (src *source) replaceHead(n int, logf func(string, ...any)) error {
	cls := src.ts["cls_token"]
	if len(cls.Shape) != 3 {
		return fmt.Errorf("cannot size the new head: cls_token has shape %v, want [1 1 dim]", cls.Shape)
	}
	for _, name := range []string{"head.weight", "head.bias"} {
		if _, ok := src.ts[name]; ok {
			logf("dropped %s: replaced by the new head of %d classes", name, n)
		}
	}
	d := cls.Shape[2]
	src.ts["head.weight"] = checkpoint.Tensor{Shape: []int{n, d}, Data: make([]float32, n*d)}
	src.ts["head.bias"] = checkpoint.Tensor{Shape: []int{n}, Data: make([]float32, n)}
	if src.cfg != nil {
		src.cfg.Classes = n
	}
	src.labels = nil
	return nil
}

// checkPreprocess requires a published preprocessing to fit the model.
func checkPreprocess(p dataset.Preprocess, c vit.Config) error {
	if err := p.Validate(); err != nil {
		return err
	}
	if p.Height != c.ImageHeight || p.Width != c.ImageWidth || p.Channels != c.Channels {
		return fmt.Errorf("the preprocessing gives %dx%dx%d images, the model takes %dx%dx%d", p.Height, p.Width, p.Channels,
			c.ImageHeight, c.ImageWidth, c.Channels)
	}
	return nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// importConfig reads the config from the metadata, or infers it from timm's
// shapes: patch_embed.proj.weight [D, C, P, P], pos_embed [1, N+1, D],
// blocks.0.mlp.fc1.weight [M, D], head.weight [classes, D], and the variant
// extras; a timm hub config.json's model_args and input_size say the rest.
// Flags override both. Without any word on the heads, dim/64 when it
// divides (timm's ViTs' head width), logged.
func importConfig(req ImportRequest, src *source, stem checkpoint.Tensors, blocks []checkpoint.Tensors, head checkpoint.Tensors, logf func(string, ...any)) (vit.Config, error) {
	var c vit.Config
	if raw := src.meta[checkpoint.MetaConfig]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return c, fmt.Errorf("the config metadata is not valid JSON: %v", err)
		}
	} else {
		var err error
		if c, err = inferConfig(stem, blocks, head); err != nil {
			return c, err
		}
		if err := src.timm.apply(&c, len(blocks), req.NewHead > 0); err != nil {
			return c, err
		}
	}
	if req.Heads > 0 {
		c.Heads = req.Heads
	}
	if req.Image[0] > 0 {
		c.ImageHeight, c.ImageWidth = req.Image[0], req.Image[1]
	}
	if req.Variant != "" {
		v, err := vit.ParseVariant(req.Variant)
		if err != nil {
			return c, err
		}
		c.Variant = v
	}
	if req.NewHead > 0 {
		c.Classes, c.Tasks = req.NewHead, nil
	}
	if c.Heads <= 0 && c.Dim > 0 && c.Dim%64 == 0 {
		c.Heads = c.Dim / 64
		logf("heads: %d, timm's head width of 64 at dim %d (--heads overrides)", c.Heads, c.Dim)
	}
	var missing []string
	if c.Heads <= 0 {
		missing = append(missing, "the number of heads (--heads)")
	}
	if c.ImageHeight <= 0 {
		missing = append(missing, "the image size of a non-square patch grid (--image HxW)")
	}
	if len(missing) > 0 {
		return c, fmt.Errorf("the file does not say %s", strings.Join(missing, " or "))
	}
	return c, c.Validate()
}

// inferConfig reads a baseline config from timm's shapes.
func inferConfig(stem checkpoint.Tensors, blocks []checkpoint.Tensors, head checkpoint.Tensors) (vit.Config, error) {
	var c vit.Config
	shape := func(ts checkpoint.Tensors, name string, dims int) ([]int, error) {
		t, ok := ts[name]
		if !ok || len(t.Shape) != dims {
			return nil, fmt.Errorf("cannot infer the config: %s is missing or not %d-dimensional", name, dims)
		}
		return t.Shape, nil
	}
	pe, err := shape(stem, "patch_embed.proj.weight", 4)
	if err != nil {
		return c, err
	}
	pos, err := shape(stem, "pos_embed", 3)
	if err != nil {
		return c, err
	}
	hw, err := shape(head, "head.weight", 2)
	if err != nil {
		return c, err
	}
	if pe[2] != pe[3] {
		return c, fmt.Errorf("patch_embed.proj.weight has shape %v: a non-square patch, which the engine does not run", pe)
	}
	c = vit.Config{Dim: pe[0], Channels: pe[1], Patch: pe[2], Depth: len(blocks), Classes: hw[0], Variant: vit.Baseline}
	if len(blocks) > 0 {
		if fc1, err := shape(blocks[0], "mlp.fc1.weight", 2); err == nil {
			c.MLP = fc1[0]
		}
		if _, ok := blocks[0]["pos_head.fc.weight"]; ok {
			c.Variant = vit.ShufflePredict
		}
	}
	if lp, ok := stem["layer_pos_embed"]; ok && len(lp.Shape) == 2 {
		c.Variant, c.PosDim = vit.ShufflePosition, lp.Shape[1]
	}
	if grid := int(math.Round(math.Sqrt(float64(pos[1] - 1)))); grid*grid == pos[1]-1 {
		c.ImageHeight, c.ImageWidth = grid*c.Patch, grid*c.Patch
	}
	return c, nil
}

// apply puts what a timm hub config.json says into c (nil: a bare file).
func (spec *timmSpec) apply(c *vit.Config, blocks int, newHead bool) error {
	if spec == nil {
		return nil
	}
	if spec.depth > 0 && spec.depth != blocks {
		return fmt.Errorf("%s says depth %d, the weights hold %d blocks", hfConfigFile, spec.depth, blocks)
	}
	for _, f := range []struct{ dst, src *int }{{&c.Heads, &spec.heads}, {&c.Dim, &spec.dim}, {&c.MLP, &spec.mlp}} {
		if *f.src > 0 {
			*f.dst = *f.src
		}
	}
	if spec.classes >= 0 && !newHead {
		c.Classes = spec.classes
	}
	if spec.image != [2]int{} {
		c.ImageHeight, c.ImageWidth = spec.image[0], spec.image[1]
	}
	c.LayerNormEps = spec.eps
	return nil
}

// importNormalization takes the flags, else what the source says; one of them must say it.
func importNormalization(req ImportRequest, src *source, channels int) (dataset.Normalization, error) {
	n := dataset.Normalization{Mean: req.Mean, Std: req.Std}
	if len(n.Mean) == 0 && len(n.Std) == 0 {
		raw := src.meta[checkpoint.MetaNormalization]
		switch {
		case src.norm != nil:
			n = *src.norm
		case raw != "":
			if err := json.Unmarshal([]byte(raw), &n); err != nil {
				return n, fmt.Errorf("the normalization metadata is not valid JSON: %v", err)
			}
		case src.timm == nil && src.cfg == nil:
			return n, errors.New("the file has no normalization metadata: pass --mean and --std (one value per channel)")
		default:
			return n, errors.New("the model's files give no mean and std: pass --mean and --std (one value per channel)")
		}
	}
	if err := n.Check(channels); err != nil {
		return n, err
	}
	return n, nil
}
