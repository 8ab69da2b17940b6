package analysis

import (
	"fmt"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
	"gonum.org/v1/gonum/mat"
)

// Feature is the summary of a block's output [T, D] per image that the
// probe, CKA and PCA see.
type Feature string

const (
	// TokenMean is the mean over all tokens, what a shuffle-predict
	// block's own slot head reads, so probe and head see the same thing.
	TokenMean Feature = "mean"
	// ClassToken is the class token, what the classifier head reads.
	ClassToken Feature = "cls"
)

// ParseFeature accepts "mean" or "cls".
func ParseFeature(s string) (Feature, error) {
	switch Feature(s) {
	case TokenMean, ClassToken:
		return Feature(s), nil
	}
	return "", fmt.Errorf("unknown feature %q: want mean (the mean over tokens) or cls (the class token)", s)
}

// Options control an analysis. The zero value of every field but Feature
// means its default.
type Options struct {
	// Orders is K, the number of random block orders (default 2 x depth, so
	// every block runs twice in every slot).
	Orders int
	// Seed draws the orders, the probe's split and its data order.
	Seed    uint64
	Feature Feature // default TokenMean
	// Holdout is the fraction of the images whose outputs score the probes
	// (default 0.3); the probes are trained on the others.
	Holdout float64
	Probe   ProbeOptions // default DefaultProbeOptions
	// PCAImages is the number of images per slot in each block's PCA plane
	// (default 200).
	PCAImages int
	// Progress, if set, is told how far each stage ("sweep", "probes") is.
	Progress func(stage string, done, total int)
}

func (o Options) withDefaults(depth int) Options {
	if o.Orders == 0 {
		o.Orders = 2 * depth
	}
	if o.Feature == "" {
		o.Feature = TokenMean
	}
	if o.Holdout == 0 {
		o.Holdout = 0.3
	}
	if o.Probe == (ProbeOptions{}) {
		o.Probe = DefaultProbeOptions()
	}
	if o.PCAImages == 0 {
		o.PCAImages = 200
	}
	return o
}

// Report is everything one analysis measures, in one value: what the
// command prints and writes, and what a study report embeds.
type Report struct {
	Model   string  `json:"model"`
	Variant string  `json:"variant"`
	Data    string  `json:"data,omitempty"`  // set by the caller, for the record
	Split   string  `json:"split,omitempty"` // likewise
	Images  int     `json:"images"`
	Depth   int     `json:"depth"`
	Seed    uint64  `json:"seed"`
	Feature Feature `json:"feature"`
	// Orders are the random block orders; the sequential order is always
	// evaluated too.
	Orders [][]int `json:"orders"`
	// Visits[b][s] is the number of random orders running block b in slot s.
	Visits Grid `json:"visits"`
	// Accuracy is the model's accuracy in its sequential order on these images.
	Accuracy     float64         `json:"accuracy"`
	Lens         Lens            `json:"lens"`
	Contribution Contribution    `json:"contribution"`
	Head         *SlotPrediction `json:"position_head,omitempty"` // shuffle-predict only
	Probe        *SlotPrediction `json:"probe"`
	ProbeOptions ProbeOptions    `json:"probe_options"`
	Holdout      float64         `json:"probe_holdout"`
	CKA          CKA             `json:"cka"`
	PCA          []*BlockPCA     `json:"pca"`
}

// Run analyses model m on the images of split, normalised with norm. The
// blocks analysed are m.Blocks; their slots are positions in a plan.
func Run(m *vit.Model, split *dataset.Split, norm dataset.Normalization, o Options) (*Report, error) {
	c := m.Config
	L := len(m.Blocks)
	o = o.withDefaults(L)
	switch {
	case L == 0:
		return nil, fmt.Errorf("analysis: model %s has no blocks", m.Name)
	case o.Orders < 1:
		return nil, fmt.Errorf("analysis: the number of orders must be positive, got %d", o.Orders)
	case o.Holdout <= 0 || o.Holdout >= 1:
		return nil, fmt.Errorf("analysis: the probe's holdout must be in (0, 1), got %g", o.Holdout)
	case o.PCAImages < 1:
		return nil, fmt.Errorf("analysis: PCA needs at least one image per slot, got %d", o.PCAImages)
	case split.N < 2:
		return nil, fmt.Errorf("analysis: needs at least 2 images, got %d", split.N)
	case split.C != c.Channels || split.H != c.ImageHeight || split.W != c.ImageWidth:
		return nil, fmt.Errorf("analysis: images are %dx%dx%d, model %s expects %dx%dx%d", split.H, split.W, split.C,
			m.Name, c.ImageHeight, c.ImageWidth, c.Channels)
	case len(split.Labels) != split.N:
		return nil, fmt.Errorf("analysis: the images have no labels")
	}
	if _, err := ParseFeature(string(o.Feature)); err != nil {
		return nil, err
	}
	for i, y := range split.Labels {
		if int(y) >= c.Classes {
			return nil, fmt.Errorf("analysis: image %d has label %d, model %s predicts %d classes", i, y, m.Name, c.Classes)
		}
	}
	orders := BalancedOrders(L, o.Orders, o.Seed)
	for _, order := range append([][]int{sequential(L)}, orders...) {
		plan, err := m.PlanOf(order)
		if err != nil {
			return nil, err
		}
		if err := m.Check(plan); err != nil {
			return nil, err
		}
	}

	var sweepProgress func(done, total int)
	if o.Progress != nil {
		sweepProgress = func(done, total int) { o.Progress("sweep", done, total) }
	}
	sw := collect(m, split, norm, orders, o.Feature, sweepProgress)

	r := &Report{Model: m.Name, Variant: string(c.Variant), Images: split.N, Depth: L, Seed: o.Seed,
		Feature: o.Feature, Orders: orders, Visits: NewGrid(labels("block ", L), labels("slot ", L)),
		Lens: logitLens(sw), Contribution: contribution(sw), Head: positionHeads(sw),
		ProbeOptions: o.Probe, Holdout: o.Holdout}
	for b, row := range visits(orders, L) {
		for s, v := range row {
			r.Visits.Values[b][s] = float64(v)
		}
	}
	r.Accuracy = r.Lens.Sequential[L-1]

	var probeProgress func(done, total int)
	if o.Progress != nil {
		probeProgress = func(done, total int) { o.Progress("probes", done, total) }
	}
	var err error
	if r.Probe, err = slotProbe(sw, o.Probe, o.Holdout, o.Seed, probeProgress); err != nil {
		return nil, err
	}
	r.CKA = linearCKA(cellMeans(sw), L, sw.n)
	for b := 0; b < L; b++ {
		p, err := blockPCA(sw, b, o.PCAImages)
		if err != nil {
			return nil, err
		}
		if p != nil {
			r.PCA = append(r.PCA, p)
		}
	}
	return r, nil
}

// cellMeans averages each (block, slot) cell's outputs over the random
// orders that visit it: [block][slot] -> n x dim, nil when never visited.
func cellMeans(sw *sweep) [][]*mat.Dense {
	L, D, n := sw.depth, sw.dim, sw.n
	cells := make([][]*mat.Dense, L)
	count := intMatrix(L, L)
	for b := range cells {
		cells[b] = make([]*mat.Dense, L)
	}
	for k, plan := range sw.plans[:sw.random] {
		for s, b := range plan {
			if cells[b][s] == nil {
				cells[b][s] = mat.NewDense(n, D, nil)
			}
			raw := cells[b][s].RawMatrix().Data
			for i, v := range sw.feats[k][s] {
				raw[i] += float64(v)
			}
			count[b][s]++
		}
	}
	for b := range cells {
		for s, cell := range cells[b] {
			if cell != nil {
				cell.Scale(1/float64(count[b][s]), cell)
			}
		}
	}
	return cells
}
