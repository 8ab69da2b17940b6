package trainer

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

// stepBatch is a batch big enough to be split into shards.
func stepBatch(t *testing.T, m *vit.Model, B int) (x []float32, labels []int32) {
	split := stripes(B, 4)
	norm := dataset.ComputeNormalization(split)
	idx := make([]int, B)
	for i := range idx {
		idx[i] = i
	}
	x, labels = make([]float32, B*split.ImageSize()), make([]int32, B)
	split.Fill(x, labels, idx, norm, nil, nil)
	return x, labels
}

func trainSteps(t *testing.T, procs int, perSample bool) [][]float32 {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
	m := tinyModel(t, vit.ShufflePredict, 1)
	const B = 40
	x, labels := stepBatch(t, m, B)
	s := NewStepper(m, 0.05, 1, 1)
	sampler := OrderSampler{Variant: vit.ShufflePredict, Depth: len(m.Blocks), PerSample: perSample}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 4; i++ {
		plans, err := resolvePlans(m, sampler.Draw(rng, B))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Step(x, labels, B, plans, 1e-2); err != nil {
			t.Fatal(err)
		}
	}
	return snapshot(m.Params())
}

// TestStepperDeterministicAcrossThreads: the sharded step gives the same
// weights, bit for bit, on one core and on all of them.
func TestStepperDeterministicAcrossThreads(t *testing.T) {
	for _, perSample := range []bool{false, true} {
		one, all := trainSteps(t, 1, perSample), trainSteps(t, max(2, runtime.NumCPU()), perSample)
		for i := range one {
			for j := range one[i] {
				if one[i][j] != all[i][j] {
					t.Fatalf("per-sample=%v: tensor %d[%d] is %v on one core, %v on several", perSample, i, j, one[i][j], all[i][j])
				}
			}
		}
	}
}

// TestStepperEqualsOneBatchUpdate compares a sharded step with forward and
// backward of the whole batch at once, clipping and AdamW: the same update
// up to float rounding.
func TestStepperEqualsOneBatchUpdate(t *testing.T) {
	const B = 32
	a, b := tinyModel(t, vit.Shuffle, 3), tinyModel(t, vit.Shuffle, 3)
	x, labels := stepBatch(t, a, B)
	s := NewStepper(a, 0.05, 0.5, 1)
	if got := len(shardBounds(B)); got != TrainShards {
		t.Fatalf("a batch of %d is split into %d shards, want %d", B, got, TrainShards)
	}
	order := []int{2, 0, 1}
	pa, _ := a.PlanOf(order)
	stats, err := s.Step(x, labels, B, []vit.Plan{pa}, 1e-2)
	if err != nil {
		t.Fatal(err)
	}

	pb, _ := b.PlanOf(order)
	st, err := b.Forward(x, labels, B, []vit.Plan{pb}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Backward(); err != nil {
		t.Fatal(err)
	}
	if d := math.Abs(stats.Loss - float64(st.ClassLoss())); d > 1e-5 {
		t.Errorf("sharded loss %v, whole-batch loss %v", stats.Loss, st.ClassLoss())
	}
	if want := countCorrect(st.Logits(), labels, b.Config.Classes, b.Config.ClassesPerTask()); stats.Correct != want {
		t.Errorf("sharded step counts %d correct, the whole batch %d", stats.Correct, want)
	}
	ClipGradNorm(b.Params(), 0.5)
	opt := NewAdamW(b.Params(), 0.05)
	opt.Step(1e-2)
	wa, wb := a.Params(), b.Params()
	for i := range wa {
		for j := range wa[i].Data() {
			if d := math.Abs(float64(wa[i].Data()[j] - wb[i].Data()[j])); d > 1e-6 {
				t.Fatalf("%s[%d]: sharded %v, whole batch %v", wa[i].Name, j, wa[i].Data()[j], wb[i].Data()[j])
			}
		}
		for _, g := range wa[i].Grad {
			if g != 0 {
				t.Fatalf("%s: gradient left after the step", wa[i].Name)
			}
		}
	}
}

// TestStepperRefusesNaN: a non-finite loss changes no weight.
func TestStepperRefusesNaN(t *testing.T) {
	m := tinyModel(t, vit.Shuffle, 1)
	const B = 16
	x, labels := stepBatch(t, m, B)
	x[len(x)-1] = float32(math.NaN()) // the second shard
	before := snapshot(m.Params())
	s := NewStepper(m, 0.05, 1, 1)
	_, err := s.Step(x, labels, B, []vit.Plan{m.Sequential()}, 1e-2)
	if err == nil {
		t.Fatal("a NaN input trained without an error")
	}
	after := snapshot(m.Params())
	for i := range before {
		for j := range before[i] {
			if before[i][j] != after[i][j] {
				t.Fatalf("weights changed by a NaN step")
			}
		}
	}
}
