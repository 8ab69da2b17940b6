package trainer

import (
	"math/rand/v2"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/vit"
)

// BenchmarkTrainStep measures training throughput of the default model
// (28x28x1, patch 7, dim 64, 4 heads, MLP 128, depth 6) at batch 64: forward,
// backward, clipping and the AdamW update of one shuffled batch.
func BenchmarkTrainStep(b *testing.B) {
	const B = 64
	m, err := vit.NewModel("bench", vit.Config{ImageHeight: 28, ImageWidth: 28, Channels: 1, Patch: 7, Dim: 64, Heads: 4,
		MLP: 128, Depth: 6, Classes: 10, Variant: vit.Shuffle})
	if err != nil {
		b.Fatal(err)
	}
	m.Init(1)
	rng := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, B*m.Config.ImageSize())
	for i := range x {
		x[i] = float32(rng.NormFloat64())
	}
	labels := make([]int32, B)
	for i := range labels {
		labels[i] = int32(rng.IntN(10))
	}
	stepper := NewStepper(m, 0.05, 1, 1)
	sampler := OrderSampler{Variant: vit.Shuffle, Depth: 6}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plans, _ := resolvePlans(m, sampler.Draw(rng, B))
		if _, err := stepper.Step(x, labels, B, plans, 1e-3); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(B*b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkInference measures tape-free evaluation of the default model.
func BenchmarkInference(b *testing.B) {
	m, err := vit.NewModel("bench", vit.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	m.Init(1)
	r := vit.NewRunner(m)
	x := make([]float32, EvalBatch*m.Config.ImageSize())
	plan := m.Sequential()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r.Logits(x, EvalBatch, plan)
	}
	b.ReportMetric(float64(EvalBatch*b.N)/b.Elapsed().Seconds(), "images/s")
}

// BenchmarkEvaluate10k measures the evaluator (tape-free runner, batches over
// the workers) on 10,000 random images of the default model under one plan.
func BenchmarkEvaluate10k(b *testing.B) {
	m, err := vit.NewModel("bench", vit.DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	m.Init(1)
	const n = 10000
	c := m.Config
	split := synth.NoiseSplit(n, c.Channels, c.ImageHeight, c.ImageWidth, c.Classes, rand.New(rand.NewPCG(1, 2)))
	ev := NewEvaluator(m, split, dataset.Normalization{Mean: []float32{0.13}, Std: []float32{0.31}})
	plan := m.Sequential()
	ev.Accuracy(plan) // sizes every worker's buffers
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev.Accuracy(plan)
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "images/s")
}
