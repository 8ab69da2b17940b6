package trainer

import (
	"math/rand/v2"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/internal/vittest"
	"github.com/frankenvit/frankenvit/stats"
	"github.com/frankenvit/frankenvit/vit"
)

// Predictions agree with Accuracy and with one image run on its own, for a
// split of more than one evaluation batch.
func TestPredictions(t *testing.T) {
	m := vittest.TinyModel(t, "m", 3, vit.Shuffle, 5)
	s := synth.NoiseSplit(EvalBatch+37, 1, 8, 8, 4, rand.New(rand.NewPCG(1, 2)))
	norm := dataset.Normalization{Mean: []float32{0.5}, Std: []float32{0.3}}
	plan, _ := m.PlanOf([]int{2, 0})
	ev := NewEvaluator(m, s, norm)
	preds := ev.Predictions(plan)
	acc, _ := ev.Accuracy(plan)
	correct := 0
	for i, p := range preds {
		if p == int(s.Labels[i]) {
			correct++
		}
	}
	if got := float64(correct) / float64(s.N); got != acc {
		t.Errorf("accuracy of the predictions %v, Accuracy %v", got, acc)
	}
	x := make([]float32, s.ImageSize())
	lab := make([]int32, 1)
	r := vit.NewRunner(m)
	for _, i := range []int{0, EvalBatch - 1, EvalBatch, s.N - 1} {
		s.MustFill(x, lab, []int{i}, norm)
		if want := stats.Argmax(r.Logits(x, 1, plan)); preds[i] != want {
			t.Errorf("image %d: predicted %d, alone %d", i, preds[i], want)
		}
	}
}
