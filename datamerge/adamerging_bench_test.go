package datamerge

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/procstat"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/vit"
)

// BenchmarkAdaMergingDefault measures the cost the issue asks for: the
// default model, 4 sources, 100 steps of 16 images per source. Run with
// -benchtime 1x; peak-rss-MB is the process's high-water mark (VmHWM).
func BenchmarkAdaMergingDefault(b *testing.B) {
	c := vit.DefaultConfig()
	base, err := vit.NewModel("base", c)
	if err != nil {
		b.Fatal(err)
	}
	base.Init(1)
	norm := dataset.Normalization{Mean: []float32{0.13}, Std: []float32{0.31}}
	var srcs []Source
	for k := 0; k < 4; k++ {
		m := adaModel(b, "src"+strconv.Itoa(k), c, base, 0.02, uint64(10+k))
		srcs = append(srcs, Source{Model: m, Norm: norm,
			Data: synth.NoiseSplit(1000, 1, 28, 28, 10, rand.New(rand.NewPCG(uint64(k), 3)))})
	}
	for _, blockWise := range []bool{false, true} {
		name := "task-wise"
		if blockWise {
			name = "block-wise"
		}
		b.Run(name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				_, res, err := AdaMerging("m", base, srcs, AdaOptions{BlockWise: blockWise, Steps: 100, Batch: 16, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(res.Entropy[len(res.Entropy)-1], "final-entropy")
			}
			b.ReportMetric(procstat.MB("VmHWM"), "peak-rss-MB")
		})
	}
}
