package vit

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Stem holds what runs before the blocks: patch embedding, class token,
// position embedding and, for shuffle-position, the slot embedding table.
type Stem struct {
	part
	PatchW, PatchB, Cls, Pos *Param
	LayerPos                 *Param // [Depth, PosDim], nil unless shuffle-position
}

// PosProj is the shuffle-position projection a block applies before itself:
// h + GELU(Linear(LN(concat(h, E[slot])))).
type PosProj struct{ NormW, NormB, FcW, FcB *Param }

// PosHead is the shuffle-predict head on the token mean of a block's output.
type PosHead struct{ NormW, NormB, FcW, FcB *Param }

// Block is one pre-LN encoder block. Source and Index say where it was
// trained, so a plan can mix blocks of several models.
type Block struct {
	part
	Source string
	Index  int
	Dim    int
	Heads  int
	MLP    int

	Norm1W, Norm1B, QkvW, QkvB, ProjW, ProjB *Param
	Norm2W, Norm2B, Fc1W, Fc1B, Fc2W, Fc2B   *Param
	PosProj                                  *PosProj // shuffle-position only
	PosHead                                  *PosHead // shuffle-predict only
	PosDim                                   int
	Slots                                    int // classes of PosHead
}

// Head is the final LayerNorm and the classifier on the class token.
type Head struct {
	part
	NormW, NormB, W, B *Param
}

// Model is a stem, the blocks it was trained with, and a head.
type Model struct {
	Name   string
	Config Config
	Stem   *Stem
	Blocks []*Block
	Head   *Head
}

// NewModel allocates a model with every parameter zero (LayerNorm weights one).
// Use Init for a random initialisation or fill the parameters from a checkpoint.
func NewModel(name string, cfg Config) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	m := &Model{Name: name, Config: cfg, Stem: newStem(cfg), Head: newHead(cfg)}
	for i := 0; i < cfg.Depth; i++ {
		m.Blocks = append(m.Blocks, NewBlock(BlockSpecOf(cfg), name, i))
	}
	return m, nil
}

func newStem(c Config) *Stem {
	s := &Stem{}
	s.PatchW = s.add("patch_embed.proj.weight", c.Dim, c.Channels, c.Patch, c.Patch)
	s.PatchB = s.add("patch_embed.proj.bias", c.Dim)
	s.Cls = s.add("cls_token", 1, 1, c.Dim)
	s.Pos = s.add("pos_embed", 1, c.Tokens(), c.Dim)
	if c.Variant.HasPositionProjection() {
		s.LayerPos = s.add("layer_pos_embed", c.Depth, c.PosDim)
	}
	return s
}

// BlockSpec fixes the sizes of one block; blocks of one plan may come from
// models of different variants as long as their widths agree.
type BlockSpec struct {
	Dim, Heads, MLP int
	PosDim          int // >0: the block carries a slot projection
	Slots           int // >0: the block carries a slot head with this many classes
}

// BlockSpecOf is the spec of the blocks a model of config c is built with.
func BlockSpecOf(c Config) BlockSpec {
	s := BlockSpec{Dim: c.Dim, Heads: c.Heads, MLP: c.MLP}
	if c.Variant.HasPositionProjection() {
		s.PosDim = c.PosDim
	}
	if c.Variant.HasPositionHead() {
		s.Slots = c.Depth
	}
	return s
}

// NewBlock allocates a block (LayerNorm weights one, everything else zero).
func NewBlock(spec BlockSpec, source string, index int) *Block {
	d, f := spec.Dim, spec.MLP
	b := &Block{Source: source, Index: index, Dim: d, Heads: spec.Heads, MLP: f}
	b.Norm1W, b.Norm1B = b.add("norm1.weight", d), b.add("norm1.bias", d)
	b.QkvW, b.QkvB = b.add("attn.qkv.weight", 3*d, d), b.add("attn.qkv.bias", 3*d)
	b.ProjW, b.ProjB = b.add("attn.proj.weight", d, d), b.add("attn.proj.bias", d)
	b.Norm2W, b.Norm2B = b.add("norm2.weight", d), b.add("norm2.bias", d)
	b.Fc1W, b.Fc1B = b.add("mlp.fc1.weight", f, d), b.add("mlp.fc1.bias", f)
	b.Fc2W, b.Fc2B = b.add("mlp.fc2.weight", d, f), b.add("mlp.fc2.bias", d)
	fill(b.Norm1W.Data(), 1)
	fill(b.Norm2W.Data(), 1)
	if spec.PosDim > 0 {
		p := d + spec.PosDim
		b.PosDim = spec.PosDim
		b.PosProj = &PosProj{NormW: b.add("pos_proj.norm.weight", p), NormB: b.add("pos_proj.norm.bias", p),
			FcW: b.add("pos_proj.fc.weight", d, p), FcB: b.add("pos_proj.fc.bias", d)}
		fill(b.PosProj.NormW.Data(), 1)
	}
	if spec.Slots > 0 {
		b.Slots = spec.Slots
		b.PosHead = &PosHead{NormW: b.add("pos_head.norm.weight", d), NormB: b.add("pos_head.norm.bias", d),
			FcW: b.add("pos_head.fc.weight", spec.Slots, d), FcB: b.add("pos_head.fc.bias", spec.Slots)}
		fill(b.PosHead.NormW.Data(), 1)
	}
	return b
}

func newHead(c Config) *Head {
	h := &Head{}
	h.NormW, h.NormB = h.add("norm.weight", c.Dim), h.add("norm.bias", c.Dim)
	h.W, h.B = h.add("head.weight", c.Classes, c.Dim), h.add("head.bias", c.Classes)
	fill(h.NormW.Data(), 1)
	return h
}

func fill(x []float32, v float32) {
	for i := range x {
		x[i] = v
	}
}

// Init draws the parameters as timm does for a ViT trained from scratch:
// truncated normal (std 0.02) for linear weights and the position embedding,
// PyTorch's default conv init for the patch embedding, 1e-6 normal for the
// class token, zeros for biases and for the slot embedding table.
func (m *Model) Init(seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0x1417))
	c := m.Config
	bound := 1 / math.Sqrt(float64(c.PatchSize()))
	patch := m.Stem.PatchW.Data()
	for i := range patch {
		patch[i] = float32((2*rng.Float64() - 1) * bound)
	}
	pb := m.Stem.PatchB.Data()
	for i := range pb {
		pb[i] = float32((2*rng.Float64() - 1) * bound)
	}
	for i := range m.Stem.Cls.Data() {
		m.Stem.Cls.Data()[i] = float32(rng.NormFloat64() * 1e-6)
	}
	truncNormal(rng, m.Stem.Pos.Data(), 0.02)
	for _, b := range m.Blocks {
		for _, p := range b.params {
			if len(p.Shape) == 2 {
				truncNormal(rng, p.Data(), 0.02)
			}
		}
	}
	truncNormal(rng, m.Head.W.Data(), 0.02)
}

// truncNormal draws N(0, std²) truncated to ±2 std, as timm's trunc_normal_.
func truncNormal(rng *rand.Rand, x []float32, std float64) {
	for i := range x {
		for {
			v := rng.NormFloat64()
			if v >= -2 && v <= 2 {
				x[i] = float32(v * std)
				break
			}
		}
	}
}

// Params lists every parameter of the model: stem, blocks, head.
func (m *Model) Params() []*Param {
	ps := append([]*Param(nil), m.Stem.params...)
	for _, b := range m.Blocks {
		ps = append(ps, b.params...)
	}
	return append(ps, m.Head.params...)
}

// NumParams counts the model's scalar parameters.
func (m *Model) NumParams() int {
	n := 0
	for _, p := range m.Params() {
		n += p.Size()
	}
	return n
}

// CopyWeightsFrom copies every parameter of src into m; the models must have
// the same config (used to start children from a parent).
func (m *Model) CopyWeightsFrom(src *Model) error {
	if err := SameShapes(m, src); err != nil {
		return err
	}
	dst, from := m.Params(), src.Params()
	for i := range dst {
		copy(dst[i].Data(), from[i].Data())
	}
	return nil
}

// SameShapes reports the first parameter whose name or shape differs.
func SameShapes(a, b *Model) error {
	pa, pb := a.Params(), b.Params()
	if len(pa) != len(pb) {
		return fmt.Errorf("models %s and %s have different parameter sets (%d vs %d tensors)", a.Name, b.Name, len(pa), len(pb))
	}
	for i := range pa {
		if pa[i].Name != pb[i].Name || fmt.Sprint(pa[i].Shape) != fmt.Sprint(pb[i].Shape) {
			return fmt.Errorf("models %s and %s differ at %s %v vs %s %v", a.Name, b.Name, pa[i].Name, pa[i].Shape, pb[i].Name, pb[i].Shape)
		}
	}
	return nil
}
