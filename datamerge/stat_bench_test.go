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

// statBenchSources are 4 randomly initialised default models, each with 256
// noise images: the cost of Fisher and RegMean does not depend on the data.
func statBenchSources(b *testing.B) []Source {
	b.Helper()
	var out []Source
	for i := range 4 {
		m, err := vit.NewModel("m"+strconv.Itoa(i), vit.DefaultConfig())
		if err != nil {
			b.Fatal(err)
		}
		m.Init(uint64(i + 1))
		c := m.Config
		d := synth.NoiseSplit(DefaultImages, c.Channels, c.ImageHeight, c.ImageWidth, c.Classes, rand.New(rand.NewPCG(uint64(i), 1)))
		out = append(out, Source{Model: m, Data: d, Norm: dataset.ComputeNormalization(d)})
	}
	return out
}

// BenchmarkFisher: Fisher merging of 4 default models on 256 images each
// (go test -run '^$' -bench BenchmarkFisher -benchtime 1x ./datamerge/).
func BenchmarkFisher(b *testing.B) {
	srcs := statBenchSources(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := Fisher("out", srcs, FisherOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(procstat.MB("VmHWM"), "peak-RSS-MB")
}

// BenchmarkRegMean: RegMean of 4 default models on 256 images each.
func BenchmarkRegMean(b *testing.B) {
	srcs := statBenchSources(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := RegMean("out", srcs, RegMeanOptions{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(procstat.MB("VmHWM"), "peak-RSS-MB")
}
