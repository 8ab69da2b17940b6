package trainer

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// TestMicroBatchEqualsWholeBatch: accumulating the gradient over chunks of
// 7, 16 or 40 samples gives the update of the whole batch of 40, up to
// float32 rounding of the different summation order.
func TestMicroBatchEqualsWholeBatch(t *testing.T) {
	var losses []float64 // of each run's first step: the batch-mean loss, whatever the chunks
	run := func(micro int) [][]float32 {
		m := tinyModel(t, vit.ShufflePredict, 3)
		const B = 40
		x, labels := stepBatch(t, m, B)
		s := NewStepper(m, 0.05, 1, 1)
		s.Micro = micro
		sampler := OrderSampler{Variant: vit.ShufflePredict, Depth: len(m.Blocks), PerSample: true}
		rng := rand.New(rand.NewPCG(5, 6))
		for i := 0; i < 3; i++ {
			plans, err := resolvePlans(m, sampler.Draw(rng, B))
			if err != nil {
				t.Fatal(err)
			}
			st, err := s.Step(x, labels, B, plans, 1e-2)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				losses = append(losses, st.Loss)
			}
		}
		return snapshot(m.Params())
	}
	whole := run(0)
	moved := false
	initial := snapshot(tinyModel(t, vit.ShufflePredict, 3).Params())
	for _, micro := range []int{7, 16, 40} {
		got := run(micro)
		worst := 0.0
		for i := range whole {
			for j := range whole[i] {
				worst = math.Max(worst, math.Abs(float64(got[i][j]-whole[i][j])))
				if whole[i][j] != initial[i][j] {
					moved = true
				}
			}
		}
		if worst > 2e-5 {
			t.Errorf("micro-batch %d: weights differ from the whole batch's by up to %g", micro, worst)
		}
	}
	for k, l := range losses[1:] {
		// Adam's update barely sees a wrong gradient scale; the loss, scaled
		// like the gradient, does.
		if math.Abs(l-losses[0]) > 1e-5*losses[0] {
			t.Errorf("run %d: first-step loss %v, the whole batch's %v", k+1, l, losses[0])
		}
	}
	if !moved {
		t.Fatal("the steps changed no weight: the comparison proves nothing")
	}
}

// TestScheduleLinearDecay: no warm-up, Peak at step 0, a straight line to
// Final*Peak at the last step.
func TestScheduleLinearDecay(t *testing.T) {
	s := Schedule{Peak: 1e-4, Total: 100, Final: 0, Linear: true} // Hugging Face's get_linear_schedule_with_warmup: peak*(Total-step)/Total
	for _, c := range []struct {
		step int
		want float64
	}{{0, 1e-4}, {25, 0.75e-4}, {50, 0.5e-4}, {100, 0}, {200, 0}} {
		if got := s.LR(c.step); math.Abs(got-c.want) > 1e-15 {
			t.Errorf("step %d: lr %g, want %g", c.step, got, c.want)
		}
	}
	p := PaperPreset(DefaultOptions())
	if p.LR != 1e-4 || p.Decay != DecayLinear || p.WarmupFrac != 0 || p.WeightDecay != 0 || p.Batch != 128 || p.FinalLRFrac != 0 || p.Augment != AugmentNone {
		t.Errorf("paper preset %+v", p)
	}
	if err := p.Validate(vit.Shuffle); err != nil {
		t.Error(err)
	}
}
