package trainer

import (
	"math"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/vit"
)

func TestEvalBatchFor(t *testing.T) {
	for _, tc := range []struct{ size, patch, want int }{
		{28, 7, EvalBatch}, {28, 4, EvalBatch}, // 17 and 50 tokens: every 28x28 model keeps 256
		{32, 4, 248},  // 65 tokens: 16384/65 = 252, down to a multiple of 8
		{224, 16, 80}, // ViT at full size: 197 tokens
		{224, 8, 16},  // 785 tokens: 20
		{128, 2, 3},   // 4097 tokens
		{256, 2, 1},   // 16385 tokens
	} {
		c := vit.Config{ImageHeight: tc.size, ImageWidth: tc.size, Channels: 3, Patch: tc.patch, Dim: 8, Heads: 2, MLP: 8, Depth: 1, Classes: 2}
		if got := EvalBatchFor(c); got != tc.want {
			t.Errorf("%d tokens: batch %d, want %d", c.Tokens(), got, tc.want)
		}
	}
}

// TestEvaluatorBatchSizeDoesNotChangeResults: a model of 65 tokens is
// evaluated in batches of 248; every image's prediction and loss equal
// those of evaluating it alone.
func TestEvaluatorBatchSizeDoesNotChangeResults(t *testing.T) {
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 1, Dim: 8, Heads: 2, MLP: 16, Depth: 2, Classes: 4, Variant: vit.Baseline}
	m, err := vit.NewModel("m", c)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(3)
	split := stripes(300, 4)
	norm := dataset.Normalization{Mean: []float32{0.3}, Std: []float32{0.4}}
	ev := NewEvaluator(m, split, norm)
	if ev.batches() != 2 {
		t.Fatalf("%d batches of %d, want 2", ev.batches(), ev.batch())
	}
	acc, loss := ev.Accuracy(m.Sequential())

	r := vit.NewRunner(m)
	x := make([]float32, split.ImageSize())
	labels := make([]int32, 1)
	correct, lossSum := 0, 0.0
	for i := 0; i < split.N; i++ {
		split.MustFill(x, labels, []int{i}, norm)
		logits := r.Logits(x, 1, m.Sequential())
		best, mx, sum := 0, logits[0], 0.0
		for k, v := range logits {
			if v > mx {
				best, mx = k, v
			}
		}
		for _, v := range logits {
			sum += math.Exp(float64(v - mx))
		}
		if int32(best) == labels[0] {
			correct++
		}
		lossSum += math.Log(sum) - float64(logits[labels[0]]-mx)
	}
	if want := float64(correct) / float64(split.N); acc != want {
		t.Errorf("accuracy %v in batches, %v one image at a time", acc, want)
	}
	if want := lossSum / float64(split.N); math.Abs(loss-want) > 1e-5*math.Abs(want) {
		t.Errorf("loss %v in batches, %v one image at a time", loss, want)
	}
}
