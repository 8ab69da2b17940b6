package workflow

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

// fineTuneConfig is the config of a model fine-tuned from parent: the
// parent's architecture (width, heads, MLP, patch, LayerNorm epsilon, and
// its plan's depth), the requested variant, and the image size, channels
// and classes of the data, set by the caller.
func fineTuneConfig(parent *vit.Model, requested vit.Config) vit.Config {
	c := parent.Config
	c.Depth = len(parent.Blocks)
	c.Variant, c.PosDim = requested.Variant, requested.PosDim
	if c.Variant.HasPositionProjection() && c.PosDim <= 0 {
		c.PosDim = vit.DefaultPosDim
	}
	if !c.Variant.HasPositionProjection() {
		c.PosDim = 0
	}
	return c
}

// copyPretrained starts m from parent's weights, tensor by tensor by name:
// equal shapes are copied; the position embedding is resampled (bicubic, as
// timm resamples it) when the patch grid changed; with newHead the
// classifier keeps m's fresh initialisation (without it, another class
// count is an error); tensors only m has (another variant's extras)
// keep their initialisation and tensors only the parent has are dropped,
// each said on log. Any other difference is an error naming every tensor.
func copyPretrained(m, parent *vit.Model, newHead bool, log io.Writer) error {
	type part struct {
		what     string
		dst, src []*vit.Param
	}
	parts := []part{{"stem", m.Stem.Params(), parent.Stem.Params()}, {"head", m.Head.Params(), parent.Head.Params()}}
	if len(m.Blocks) != len(parent.Blocks) {
		return fmt.Errorf("the model has %d blocks, the pretrained %s %d", len(m.Blocks), parent.Name, len(parent.Blocks))
	}
	for i := range m.Blocks {
		parts = append(parts, part{fmt.Sprintf("block %d", i), m.Blocks[i].Params(), parent.Blocks[i].Params()})
	}
	var problems, notes []string
	for _, pt := range parts {
		src := map[string]*vit.Param{}
		for _, p := range pt.src {
			src[p.Name] = p
		}
		for _, p := range pt.dst {
			q, ok := src[p.Name]
			delete(src, p.Name)
			switch {
			case !ok:
				notes = append(notes, fmt.Sprintf("%s %s is new (not in %s): initialised", pt.what, p.Name, parent.Name))
			case newHead && (p.Name == "head.weight" || p.Name == "head.bias"):
				if p.Name == "head.weight" {
					notes = append(notes, fmt.Sprintf("new head: %d classes (%s predicts %d), initialised", m.Config.Classes, parent.Name, parent.Config.Classes))
				}
			case slices.Equal(p.Shape, q.Shape):
				copy(p.Data(), q.Data())
			case p.Name == "pos_embed":
				c, pc := m.Config, parent.Config
				pos, err := vit.ResamplePosEmbed(q.Data(), 1, pc.GridH(), pc.GridW(), c.GridH(), c.GridW(), c.Dim)
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				copy(p.Data(), pos)
				notes = append(notes, fmt.Sprintf("pos_embed resampled from a %dx%d to a %dx%d patch grid (bicubic)", pc.GridH(), pc.GridW(), c.GridH(), c.GridW()))
			case p.Name == "head.weight" || p.Name == "head.bias":
				problems = append(problems, fmt.Sprintf("the data has %d classes, %s predicts %d: pass --new-head to fine-tune a new classifier",
					m.Config.Classes, parent.Name, parent.Config.Classes))
			default:
				problems = append(problems, fmt.Sprintf("%s %s is %v here, %v in %s", pt.what, p.Name, p.Shape, q.Shape, parent.Name))
			}
		}
		for name := range src {
			notes = append(notes, fmt.Sprintf("%s %s of %s is not part of a %s model: dropped", pt.what, name, parent.Name, m.Config.Variant))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("cannot start from %s: %s", parent.Name, strings.Join(slices.Compact(problems), "; "))
	}
	if log != nil {
		for _, n := range notes {
			fmt.Fprintln(log, "init:", n)
		}
	}
	return nil
}

// fullSizePreprocess is the preprocessing of a training on data: the one
// the request gives; else, for folder data, the init model's with the
// requested image size, or timm's default at that size; zero (in-memory
// data) when neither an image size nor an init model with a preprocessing
// says otherwise.
func fullSizePreprocess(data modelstore.DataOptions, image [2]int, parent *modelstore.Stored) (dataset.Preprocess, error) {
	if !data.Preprocess.IsZero() {
		return data.Preprocess, nil
	}
	var p dataset.Preprocess
	if parent != nil && parent.Records.Preprocess != nil {
		p = *parent.Records.Preprocess
	}
	if image[0] > 0 {
		if p.IsZero() {
			channels := 3
			if parent != nil {
				channels = parent.Model.Config.Channels
			}
			p = dataset.TimmPreprocess(image[0], image[1], channels)
		}
		p.Height, p.Width = image[0], image[1]
	}
	if p.IsZero() {
		return p, nil
	}
	if _, ok := modelstore.FullSizeFolder(data.Spec); !ok {
		if image[0] > 0 {
			return dataset.Preprocess{}, fmt.Errorf("--image applies to folder:DIR data only, not %s", data.Spec)
		}
		return dataset.Preprocess{}, nil // a pretrained model fine-tuned on in-memory data of its own size
	}
	return p, p.Validate()
}
