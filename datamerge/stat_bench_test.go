package datamerge

import (
	"bufio"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
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

// peakRSSMB is the process's peak resident memory (VmHWM), in MB, or -1
// where /proc does not tell; run one benchmark per process to attribute it.
func peakRSSMB() float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			if err == nil {
				return kb / 1024
			}
		}
	}
	return -1
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
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
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
	b.ReportMetric(peakRSSMB(), "peak-RSS-MB")
}
