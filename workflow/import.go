package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

// ImportRequest is everything `frankenvit store import` needs. What the
// file's metadata does not say, and its shapes cannot (the number of
// heads, the image size of a non-square grid, the normalisation), comes
// from these fields; a value given here overrides the metadata.
type ImportRequest struct {
	File, Name string
	Heads      int       // attention heads
	Image      [2]int    // image height, width; 0 = a square grid
	Variant    string    // default: inferred from the tensors present
	Data       string    // the data set the model reads
	Mean, Std  []float32 // per-channel input normalisation
}

// Import stores a safetensors file with timm's tensor names as a model. The
// config is taken from the file's metadata or inferred from the shapes, and
// every tensor is checked against it before anything is stored.
func Import(s *checkpoint.Store, req ImportRequest) (*checkpoint.Manifest, error) {
	if err := checkpoint.ValidName(req.Name); err != nil {
		return nil, err
	}
	if s.Exists(req.Name) {
		return nil, fmt.Errorf("model %s already exists in store %s", req.Name, s.Dir)
	}
	ts, meta, err := checkpoint.ReadSafetensorsFile(req.File)
	if err != nil {
		return nil, err
	}
	stem, blocks, head, err := checkpoint.SplitExported(ts)
	if err != nil {
		return nil, fmt.Errorf("import %s: %v", req.File, err)
	}
	cfg, err := importConfig(req, meta, stem, blocks, head)
	if err != nil {
		return nil, fmt.Errorf("import %s: %v", req.File, err)
	}
	norm, err := importNormalization(req, meta, cfg.Channels)
	if err != nil {
		return nil, fmt.Errorf("import %s: %v", req.File, err)
	}
	m, err := vit.NewModel(req.Name, cfg)
	if err != nil {
		return nil, fmt.Errorf("import %s: %v", req.File, err)
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
	if len(problems) > 0 {
		return nil, fmt.Errorf("import %s: the tensors do not match the config (%s): %s", req.File, modelstore.DescribeConfig(cfg),
			strings.Join(problems, "; "))
	}
	normJSON, _ := json.Marshal(norm)
	origin, _ := json.Marshal(map[string]string{"imported_from": req.File})
	man := &checkpoint.Manifest{FormatVersion: 1, Name: req.Name, CreatedAt: time.Now().UTC(), Status: "complete",
		Data: firstNonEmpty(req.Data, meta[checkpoint.MetaData]), Normalization: normJSON, Training: origin}
	return man, s.WithSharedLock(func() error {
		if err := modelstore.PutWeights(s, m, man); err != nil {
			return err
		}
		return s.Create(man)
	})
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
// extras. Flags override both.
func importConfig(req ImportRequest, meta map[string]string, stem checkpoint.Tensors, blocks []checkpoint.Tensors, head checkpoint.Tensors) (vit.Config, error) {
	var c vit.Config
	if raw := meta[checkpoint.MetaConfig]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return c, fmt.Errorf("the config metadata is not valid JSON: %v", err)
		}
	} else {
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

// importNormalization takes the flags, else the metadata; one of them must say it.
func importNormalization(req ImportRequest, meta map[string]string, channels int) (dataset.Normalization, error) {
	n := dataset.Normalization{Mean: req.Mean, Std: req.Std}
	if len(n.Mean) == 0 && len(n.Std) == 0 {
		raw := meta[checkpoint.MetaNormalization]
		if raw == "" {
			return n, errors.New("the file has no normalization metadata: pass --mean and --std (one value per channel)")
		}
		if err := json.Unmarshal([]byte(raw), &n); err != nil {
			return n, fmt.Errorf("the normalization metadata is not valid JSON: %v", err)
		}
	}
	if err := n.Check(channels); err != nil {
		return n, err
	}
	return n, nil
}
