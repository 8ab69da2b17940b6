package vit

import (
	"fmt"
	"math"
	"sort"
	"testing"
	"time"

	"github.com/frankenvit/frankenvit/internal/testenv"
)

func tensorsOf(params []*Param) map[string][]float32 {
	out := map[string][]float32{}
	for _, p := range params {
		out[p.Name] = p.Data()
	}
	return out
}

// torchCase is one training step for the reference: m's stem and head, the
// plans' blocks. blocks lists every block whose gradient is compared (those
// of the plans and m's own, used or not).
type torchCase struct {
	m         *Model
	blocks    []*Block
	plans     []Plan // one for the batch, or one per sample
	x         []float32
	labels    []int32
	posWeight float32
}

type torchResult struct {
	Logits     []float64   `json:"logits"`
	SlotLogits [][]float64 `json:"slot_logits"`
	Loss       float64     `json:"loss"`
	Grads      struct {
		Stem   map[string][]float64   `json:"stem"`
		Blocks []map[string][]float64 `json:"blocks"`
		Head   map[string][]float64   `json:"head"`
	} `json:"grads"`
}

// torchReference runs vit/testdata/torch_reference.py on every case in one process.
func torchReference(t *testing.T, cases []torchCase) []torchResult {
	t.Helper()
	var in []map[string]any
	for _, c := range cases {
		number := map[*Block]int{}
		blocks := make([]map[string][]float32, len(c.blocks))
		for i, b := range c.blocks {
			number[b] = i
			blocks[i] = tensorsOf(b.params)
		}
		plans := make([][]int, len(c.plans))
		for i, p := range c.plans {
			for _, b := range p {
				k, ok := number[b]
				if !ok {
					t.Fatalf("a plan runs block %s[%d], which the case does not list", b.Source, b.Index)
				}
				plans[i] = append(plans[i], k)
			}
		}
		in = append(in, map[string]any{"config": c.m.Config, "stem": tensorsOf(c.m.Stem.params), "blocks": blocks,
			"plans": plans, "head": tensorsOf(c.m.Head.params), "images": c.x, "labels": c.labels, "pos_weight": c.posWeight})
	}
	var res []torchResult
	runReference(t, "torch_reference.py", 5*time.Minute, map[string]any{"cases": in}, &res)
	if len(res) != len(cases) {
		t.Fatalf("torch reference gave %d results for %d cases", len(res), len(cases))
	}
	return res
}

func maxAbsDiff(t *testing.T, what string, got []float32, want []float64) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, reference has %d", what, len(got), len(want))
	}
	worst := 0.0
	for i := range got {
		worst = math.Max(worst, math.Abs(float64(got[i])-want[i]))
	}
	return worst
}

// gradTolerance bounds relGradError of every parameter's gradient.
const gradTolerance = 1e-4

// relGradError is the relative error of one tensor's gradient:
// max_i |got_i - want_i| / max(max_i |want_i|, 1e-12). Normalising by the
// tensor's largest reference entry (not entry by entry) keeps entries that
// are zero in exact arithmetic (such as a key bias's gradient, which softmax
// cancels) from dividing rounding noise by nothing, while a tensor whose
// reference gradient is exactly zero (a block no plan runs) must be zero in
// Go too, to within 1e-16.
func relGradError(got []float32, want []float64) float64 {
	diff, scale := 0.0, 0.0
	for i := range got {
		diff = math.Max(diff, math.Abs(float64(got[i])-want[i]))
		scale = math.Max(scale, math.Abs(want[i]))
	}
	return diff / math.Max(scale, 1e-12)
}

func maxAbs[F float32 | float64](x []F) float64 {
	m := 0.0
	for _, v := range x {
		m = math.Max(m, math.Abs(float64(v)))
	}
	return m
}

// namedCase is a torchCase with its name and the expectations on it.
type namedCase struct {
	variant Variant
	name    string // plan kind and order, e.g. "permuted/per-sample"
	torchCase
}

// parityCases are, for every variant, the sequential, a permuted, a pruned,
// a repeating and a Frankenstein plan (blocks of two models) for the whole
// batch, and the last four again as one plan per sample, plus the default
// MNIST-sized model.
func parityCases(t *testing.T) []namedCase {
	var cases []namedCase
	for _, v := range Variants {
		c := tinyConfig(v)
		m := randomModel(t, "a", c, 31)
		donor := randomModel(t, "b", c, 32)
		a, b := m.Blocks, donor.Blocks
		add := func(name string, B int, plans ...Plan) {
			blocks := append([]*Block(nil), m.Blocks...)
			for _, p := range plans {
				for _, bl := range p {
					if bl.Source != m.Name && !containsBlock(blocks, bl) {
						blocks = append(blocks, bl)
					}
				}
			}
			cases = append(cases, namedCase{v, name, torchCase{m: m, blocks: blocks, plans: plans,
				x: randomImages(c, B, 33), labels: randomLabels(c, B, 34), posWeight: 0.7}})
		}
		// One plan for the batch: 3 samples.
		add("sequential/per-batch", 3, m.Sequential())
		add("permuted/per-batch", 3, Plan{a[2], a[0], a[1]})
		add("pruned/per-batch", 3, Plan{a[2], a[1]})
		add("repeated/per-batch", 3, Plan{a[1], a[1], a[0]})
		add("frankenstein/per-batch", 3, Plan{b[2], a[0], b[1]})
		// One plan per sample: 4 samples, two of which share the block at some slots.
		add("permuted/per-sample", 4, Plan{a[2], a[0], a[1]}, Plan{a[0], a[1], a[2]}, Plan{a[2], a[1], a[0]}, Plan{a[1], a[0], a[2]})
		add("pruned/per-sample", 4, Plan{a[2], a[1]}, Plan{a[0], a[2]}, Plan{a[2], a[0]}, Plan{a[1], a[2]})
		add("repeated/per-sample", 4, Plan{a[1], a[1], a[0]}, Plan{a[0], a[2], a[2]}, Plan{a[2], a[0], a[2]}, Plan{a[1], a[1], a[1]})
		add("frankenstein/per-sample", 4, Plan{b[2], a[0], b[1]}, Plan{a[0], b[1], a[2]}, Plan{b[1], b[2], a[0]}, Plan{a[2], a[0], b[2]})
	}
	// A multi-task head (three tasks of four classes): the loss is each
	// sample's cross-entropy over its own task's rows.
	mt := randomModel(t, "mt", multiTaskConfig(Shuffle), 51)
	cases = append(cases, namedCase{Shuffle, "multi-task/per-batch", torchCase{m: mt, blocks: mt.Blocks,
		plans: []Plan{{mt.Blocks[1], mt.Blocks[2], mt.Blocks[0]}}, x: randomImages(mt.Config, 4, 52),
		labels: []int32{0, 7, 11, 4}, posWeight: 0.7}})
	d := randomModel(t, "d", DefaultConfig(), 41)
	cases = append(cases, namedCase{Baseline, "default size/per-batch", torchCase{m: d, blocks: d.Blocks,
		plans: []Plan{d.Sequential()}, x: randomImages(d.Config, 4, 42), labels: randomLabels(d.Config, 4, 43), posWeight: 0.7}})
	// A long sequence (197 tokens, heads of 32 columns): the tape-free
	// forward takes the kernels' tiled attention (online softmax).
	lc := Config{ImageHeight: 28, ImageWidth: 28, Channels: 1, Patch: 2, Dim: 64, Heads: 2, MLP: 64, Depth: 2,
		Classes: 10, Variant: Baseline}
	l := randomModel(t, "l", lc, 61)
	cases = append(cases, namedCase{Baseline, "long sequence/per-batch", torchCase{m: l, blocks: l.Blocks,
		plans: []Plan{l.Sequential()}, x: randomImages(lc, 2, 62), labels: randomLabels(lc, 2, 63), posWeight: 0.7}})
	return cases
}

func containsBlock(blocks []*Block, b *Block) bool {
	for _, x := range blocks {
		if x == b {
			return true
		}
	}
	return false
}

// gradTensor is one parameter of a case with its Go and reference gradients.
type gradTensor struct {
	name string
	used bool // some plan runs it, so its gradient cannot be zero
	got  []float32
	want []float64
}

// goGradients runs the training graph of c (forward and backward) and
// returns the step with every parameter's gradient, named as the reference
// names them.
func goGradients(t *testing.T, c torchCase, ref torchResult) (*Step, []gradTensor) {
	t.Helper()
	zeroGrads(c.m.Params())
	for _, b := range c.blocks {
		zeroGrads(b.params)
	}
	st, err := c.m.Forward(c.x, c.labels, len(c.labels), c.plans, c.posWeight)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Backward(); err != nil {
		t.Fatal(err)
	}
	inPlans := map[*Block]bool{}
	for _, p := range c.plans {
		for _, b := range p {
			inPlans[b] = true
		}
	}
	var out []gradTensor
	take := func(prefix string, params []*Param, want map[string][]float64, used bool) {
		if len(want) != len(params) {
			t.Fatalf("%s: the reference has %d gradients, Go %d parameters", prefix, len(want), len(params))
		}
		for _, p := range params {
			w, ok := want[p.Name]
			if !ok || len(w) != len(p.Grad) {
				t.Fatalf("%s%s: the reference has %d gradient values, the parameter %d", prefix, p.Name, len(w), len(p.Grad))
			}
			out = append(out, gradTensor{name: prefix + p.Name, used: used, got: append([]float32(nil), p.Grad...), want: w})
		}
	}
	take("", c.m.Stem.params, ref.Grads.Stem, true)
	if len(ref.Grads.Blocks) != len(c.blocks) {
		t.Fatalf("the reference has gradients of %d blocks, the case %d", len(ref.Grads.Blocks), len(c.blocks))
	}
	for i, b := range c.blocks {
		take(fmt.Sprintf("%s.blocks.%d.", b.Source, b.Index), b.params, ref.Grads.Blocks[i], inPlans[b])
	}
	take("", c.m.Head.params, ref.Grads.Head, true)
	return st, out
}

// TestTorchParity compares the tape-free forward pass, the training graph's
// forward pass and loss, and the gradient of that loss with respect to
// every parameter with an independent float64 PyTorch implementation, on the
// same weights and inputs: for every variant; for sequential, permuted,
// pruned, repeated and Frankenstein plans; with one plan for the batch and
// one plan per sample.
func TestTorchParity(t *testing.T) {
	testenv.NeedTorch(t)
	cases := parityCases(t)
	tcs := make([]torchCase, len(cases))
	for i, c := range cases {
		tcs[i] = c.torchCase
	}
	start := time.Now()
	want := torchReference(t, tcs)
	t.Logf("the PyTorch reference took %.1fs for %d cases", time.Since(start).Seconds(), len(tcs))
	worstByVariant := map[Variant]float64{}
	checkedPerturbation := false
	for i, c := range cases {
		ref := want[i]
		what := fmt.Sprintf("%s/%s", c.variant, c.name)
		B := len(c.labels)

		// Forward: the tape-free runner, sample by sample for per-sample plans.
		var tapeFree []float32
		if len(c.plans) == 1 {
			tapeFree = NewRunner(c.m).Logits(c.x, B, c.plans[0])
		} else {
			size := c.m.Config.ImageSize()
			for s, p := range c.plans {
				tapeFree = append(tapeFree, NewRunner(c.m).Logits(c.x[s*size:(s+1)*size], 1, p)...)
			}
		}
		if d := maxAbsDiff(t, what+" logits", tapeFree, ref.Logits); d > 1e-4 {
			t.Errorf("%s: tape-free logits differ from PyTorch by %.3g", what, d)
		}

		// The training graph: logits, slot-head logits, loss, gradients.
		st, grads := goGradients(t, c.torchCase, ref)
		if d := maxAbsDiff(t, what+" logits", st.Logits(), ref.Logits); d > 1e-4 {
			t.Errorf("%s: training-graph logits differ from PyTorch by %.3g", what, d)
		}
		if len(c.plans) == 1 && c.variant.HasPositionHead() {
			if len(ref.SlotLogits) != len(c.plans[0]) {
				t.Fatalf("%s: reference ran %d slot heads", what, len(ref.SlotLogits))
			}
			for k := range ref.SlotLogits {
				if d := maxAbsDiff(t, "slot logits", st.SlotLogits(k), ref.SlotLogits[k]); d > 1e-4 {
					t.Errorf("%s: slot %d head logits differ from PyTorch by %.3g", what, k, d)
				}
			}
		}
		loss := float64(f32(st.loss)[0])
		if d := math.Abs(loss - ref.Loss); d > 1e-5*math.Max(1, math.Abs(ref.Loss)) {
			t.Errorf("%s: training loss %.7g, PyTorch %.7g", what, loss, ref.Loss)
		}

		worst, worstName := 0.0, ""
		for _, g := range grads {
			e := relGradError(g.got, g.want)
			if e > gradTolerance {
				t.Errorf("%s: gradient of %s differs from PyTorch's by %.3g relative (largest |gradient| %.3g)", what, g.name, e, maxAbs(g.want))
			}
			if e > worst || worstName == "" {
				worst, worstName = e, g.name
			}
			// A parameter some plan runs must receive a gradient, in both
			// implementations; one no plan runs receives none (checked above:
			// its reference gradient is zero).
			if g.used && (maxAbs(g.want) == 0 || maxAbs(g.got) == 0) {
				t.Errorf("%s: %s is used but its gradient is zero (Go %.3g, PyTorch %.3g)", what, g.name, maxAbs(g.got), maxAbs(g.want))
			}
			if !g.used && maxAbs(g.want) != 0 {
				t.Errorf("%s: %s is not used but PyTorch gives it a gradient", what, g.name)
			}
		}
		// The comparison can fail: a gradient off by a tolerance and a half
		// at its largest entry is caught.
		if !checkedPerturbation {
			g := grads[len(grads)/2]
			bad := append([]float32(nil), g.got...)
			j := argMaxAbs(g.want)
			bad[j] += float32(1.5 * gradTolerance * maxAbs(g.want))
			if e := relGradError(bad, g.want); e <= gradTolerance {
				t.Errorf("%s: a perturbed gradient of %s passes (relative error %.3g)", what, g.name, e)
			}
			checkedPerturbation = true
		}
		t.Logf("%-40s largest relative gradient error %.2e (%s), over %d tensors", what, worst, worstName, len(grads))
		worstByVariant[c.variant] = math.Max(worstByVariant[c.variant], worst)
	}
	var vs []string
	for v := range worstByVariant {
		vs = append(vs, string(v))
	}
	sort.Strings(vs)
	for _, v := range vs {
		t.Logf("%-17s largest relative gradient error %.2e", v, worstByVariant[Variant(v)])
	}
}

func argMaxAbs(x []float64) int {
	k := 0
	for i, v := range x {
		if math.Abs(v) > math.Abs(x[k]) {
			k = i
		}
	}
	return k
}
