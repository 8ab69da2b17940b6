package analysis

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

func TestIdentityBlockContributesNothing(t *testing.T) {
	split, norm := stripes(150, 1)
	for _, v := range []vit.Variant{vit.Baseline, vit.ShufflePosition} {
		m := randomModel(t, tinyConfig(v), 3)
		makeIdentity(m.Blocks[1])
		r, err := Run(m, split, norm, Options{Orders: 6, Seed: 2})
		if err != nil {
			t.Fatal(err)
		}
		c := r.Contribution
		for s := 0; s < 3; s++ {
			if c.Accuracy.At(1, s) != 0 || c.Loss.At(1, s) != 0 {
				t.Errorf("%s: the identity block at slot %d changes accuracy by %v and loss by %v, want 0", v, s,
					c.Accuracy.At(1, s), c.Loss.At(1, s))
			}
		}
		if c.SequentialAccuracy[1] != 0 || c.SequentialLoss[1] != 0 {
			t.Errorf("%s: the identity block in the sequential order contributes %v, %v", v,
				c.SequentialAccuracy[1], c.SequentialLoss[1])
		}
		// The other blocks do something somewhere: the measure is not always zero.
		moved := 0
		for _, b := range []int{0, 2} {
			for s := 0; s < 3; s++ {
				if c.Loss.At(b, s) != 0 {
					moved++
				}
			}
		}
		if moved == 0 {
			t.Errorf("%s: no real block changes the loss anywhere", v)
		}
	}
}

// The lens after the last slot is the model's accuracy, and the skip
// contributions are accuracy differences of plans, all as the trainer's
// evaluator measures them.
func TestLensAndContributionMatchEvaluator(t *testing.T) {
	split, norm := stripes(300, 2) // more than one batch
	m := randomModel(t, tinyConfig(vit.Baseline), 5)
	r, err := Run(m, split, norm, Options{Orders: 5, Seed: 8})
	if err != nil {
		t.Fatal(err)
	}
	ev := trainer.NewEvaluator(m, split, norm)
	seqAcc, _ := ev.Accuracy(m.Sequential())
	if r.Lens.Sequential[2] != seqAcc || r.Accuracy != seqAcc {
		t.Errorf("lens at the last slot %v (report accuracy %v), evaluator %v", r.Lens.Sequential[2], r.Accuracy, seqAcc)
	}
	stemAcc, _ := ev.Accuracy(vit.Plan{})
	if r.Lens.Stem != stemAcc {
		t.Errorf("lens after the stem %v, evaluator with no blocks %v", r.Lens.Stem, stemAcc)
	}
	// Every prefix of the sequential order.
	for s := 0; s < 3; s++ {
		acc, _ := ev.Accuracy(m.Sequential()[:s+1])
		if r.Lens.Sequential[s] != acc {
			t.Errorf("lens after slot %d: %v, evaluator on the prefix %v", s, r.Lens.Sequential[s], acc)
		}
	}
	var plans, skipped []vit.Plan
	for _, o := range r.Orders {
		p, _ := m.PlanOf(o)
		plans = append(plans, p)
		for s := range o {
			skipped = append(skipped, append(append(vit.Plan{}, p[:s]...), p[s+1:]...))
		}
	}
	accs, _ := ev.AccuracyOfPlans(plans)
	skipAccs, _ := ev.AccuracyOfPlans(skipped)
	var mean float64
	sum, count := floatMatrix(3, 3), intMatrix(3, 3)
	for k, o := range r.Orders {
		mean += accs[k] / float64(len(accs))
		for s, b := range o {
			sum[b][s] += accs[k] - skipAccs[k*3+s]
			count[b][s]++
		}
	}
	if math.Abs(r.Lens.Random[2]-mean) > 1e-12 || math.Abs(r.Contribution.OrderAccuracy-mean) > 1e-12 {
		t.Errorf("lens at the last slot over random orders %v, order accuracy %v; evaluator %v", r.Lens.Random[2],
			r.Contribution.OrderAccuracy, mean)
	}
	for b := 0; b < 3; b++ {
		for s := 0; s < 3; s++ {
			want := math.NaN()
			if count[b][s] > 0 {
				want = sum[b][s] / float64(count[b][s])
			}
			got := r.Contribution.Accuracy.At(b, s)
			if !(math.Abs(got-want) < 1e-12 || math.IsNaN(got) && math.IsNaN(want)) {
				t.Errorf("contribution of block %d at slot %d: %v, evaluator %v", b, s, got, want)
			}
		}
	}
}

// Blocks that are all the identity leave nothing to find: outputs equal at
// every slot, so CKA is 1 everywhere, the probe is at chance, PCA sees no
// slot, and the lens never moves.
func TestNothingToFindInIdentityBlocks(t *testing.T) {
	split, norm := stripes(200, 3)
	m := randomModel(t, tinyConfig(vit.Baseline), 4)
	for _, bl := range m.Blocks {
		makeIdentity(bl)
	}
	r, err := Run(m, split, norm, Options{Orders: 6, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 3; s++ {
		if r.Lens.Sequential[s] != r.Lens.Stem || r.Lens.Random[s] != r.Lens.Stem {
			t.Errorf("slot %d: the lens moved (%v, %v) from the stem's %v", s, r.Lens.Sequential[s], r.Lens.Random[s], r.Lens.Stem)
		}
	}
	for i := range r.CKA.Matrix.Values {
		for j, v := range r.CKA.Matrix.Values[i] {
			if math.Abs(v-1) > 1e-9 {
				t.Fatalf("CKA %s vs %s = %v, want 1", r.CKA.Matrix.Rows[i], r.CKA.Matrix.Cols[j], v)
			}
		}
	}
	if r.Probe.Accuracy > 1.0/3+0.12 {
		t.Errorf("probe reads the slot from identical outputs with accuracy %.3f, want chance (0.33)", r.Probe.Accuracy)
	}
	if len(r.PCA) != 3 {
		t.Fatalf("%d PCA planes, want one per block", len(r.PCA))
	}
	for _, p := range r.PCA {
		if p.Outputs.SlotShare > 1e-9 || p.Centred.SlotShare > 1e-9 {
			t.Errorf("block %d: the slot explains %.3g of the PCA plane (%.3g centred), want 0", p.Block,
				p.Outputs.SlotShare, p.Centred.SlotShare)
		}
	}
}

// A shuffle-position model whose blocks only add their slot embedding's
// projection writes the slot into every output: the probe must read it.
func TestProbeReadsSlotCodedModel(t *testing.T) {
	split, norm := stripes(200, 4)
	m := randomModel(t, tinyConfig(vit.ShufflePosition), 6)
	for _, bl := range m.Blocks {
		for _, p := range []*vit.Param{bl.ProjW, bl.ProjB, bl.Fc2W, bl.Fc2B} {
			clear(p.Data())
		}
	}
	table := m.Stem.LayerPos.Data()
	for i := range table {
		table[i] *= 20 // slot embeddings far apart
	}
	r, err := Run(m, split, norm, Options{Orders: 6, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Probe.Accuracy != 1 {
		t.Errorf("probe on slot-coded outputs: accuracy %.4f, want 1\n%v", r.Probe.Accuracy, r.Probe.Confusion.Values)
	}
	if r.Head != nil {
		t.Error("a model without slot heads reports slot heads")
	}
	for _, p := range r.PCA {
		if p.Centred.SlotShare < 0.9 {
			t.Errorf("block %d: the slot explains only %.3f of the centred PCA plane", p.Block, p.Centred.SlotShare)
		}
		t.Logf("block %d: slot share %.3f, centred %.3f", p.Block, p.Outputs.SlotShare, p.Centred.SlotShare)
	}
}

func TestPositionHeadKnownAnswer(t *testing.T) {
	split, norm := stripes(120, 5)
	m := randomModel(t, tinyConfig(vit.ShufflePredict), 7)
	// Every head ignores its input and says slot 2.
	for _, bl := range m.Blocks {
		clear(bl.PosHead.FcW.Data())
		b := bl.PosHead.FcB.Data()
		clear(b)
		b[2] = 5
	}
	r, err := Run(m, split, norm, Options{Orders: 6, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	h := r.Head
	if h == nil {
		t.Fatal("no position-head result for a shuffle-predict model")
	}
	for b := 0; b < 3; b++ {
		for s := 0; s < 3; s++ {
			want := 0.0
			if s == 2 {
				want = 1
			}
			if h.BlockSlot.At(b, s) != want {
				t.Errorf("block %d slot %d: head accuracy %v, want %v", b, s, h.BlockSlot.At(b, s), want)
			}
		}
	}
	perSlot := float64(120 * 6) // images x orders (each order runs one block per slot)
	for s := 0; s < 3; s++ {
		for p := 0; p < 3; p++ {
			want := 0.0
			if p == 2 {
				want = perSlot
			}
			if h.Confusion.At(s, p) != want {
				t.Errorf("confusion[%d][%d] = %v, want %v", s, p, h.Confusion.At(s, p), want)
			}
		}
	}
	if math.Abs(h.Accuracy-1.0/3) > 1e-12 || h.Samples != 3*120*6 {
		t.Errorf("head accuracy %v over %d samples, want 1/3 over %d", h.Accuracy, h.Samples, 3*120*6)
	}
}

func TestRunIsSeededAndRoundTrips(t *testing.T) {
	split, norm := stripes(100, 6)
	m := randomModel(t, tinyConfig(vit.ShufflePredict), 9)
	encode := func(seed uint64) []byte {
		r, err := Run(m, split, norm, Options{Orders: 4, Seed: seed, Feature: ClassToken})
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b, c := encode(1), encode(1), encode(2)
	if !bytes.Equal(a, b) {
		t.Error("same seed, different reports")
	}
	if bytes.Equal(a, c) {
		t.Error("different seeds, same report")
	}
	var back Report
	if err := json.Unmarshal(a, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.Marshal(&back)
	if !bytes.Equal(a, again) {
		t.Error("the report does not survive a JSON round trip")
	}
}

func TestRunRejectsBadInput(t *testing.T) {
	split, norm := stripes(50, 7)
	m := randomModel(t, tinyConfig(vit.Baseline), 1)
	for name, o := range map[string]Options{
		"negative orders": {Orders: -1},
		"holdout 1":       {Holdout: 1},
		"feature":         {Feature: "max"},
	} {
		if _, err := Run(m, split, norm, o); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := Run(m, split.Limit(1), norm, Options{}); err == nil {
		t.Error("one image: no error")
	}
	wide := randomModel(t, vit.Config{ImageHeight: 12, ImageWidth: 12, Channels: 1, Patch: 4, Dim: 12, Heads: 3,
		MLP: 20, Depth: 2, Classes: 4, Variant: vit.Baseline}, 1)
	if _, err := Run(wide, split, norm, Options{}); err == nil {
		t.Error("8x8 images into a 12x12 model: no error")
	}
	few := randomModel(t, vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 12, Heads: 3,
		MLP: 20, Depth: 2, Classes: 2, Variant: vit.Baseline}, 1)
	if _, err := Run(few, split, norm, Options{}); err == nil {
		t.Error("labels beyond the model's classes: no error")
	}
}
