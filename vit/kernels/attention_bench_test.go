package kernels

import (
	"fmt"
	"math/rand"
	"sort"
	"testing"
	"time"
)

// attnBenchShapes are the attention shapes of the default model (28x28,
// patch 7), the large one (28x28, patch 4) and ViT-Ti (224x224, patch 16),
// with batches that make one call take roughly 5-20 ms on this machine
// (1 worker).
var attnBenchShapes = []struct {
	name       string
	B, T, D, H int
}{
	{"default", 2048, 17, 64, 4},
	{"large", 256, 50, 192, 3},
	{"vit-ti", 32, 197, 192, 3},
}

// BenchmarkAttentionPaths runs the attention kernels old (the unfused
// forward) and new side by side, with 1 and 2 workers, for inference
// (forward without probs), training (forward with probs) and the backward
// pass. The two alternate call by call, so drifts in the load of this
// shared machine hit both alike; old-ms and new-ms are the medians per
// call, and old-ws-bytes and new-ws-bytes the scratch one goroutine of the
// forward holds (its peak allocation: nothing else is allocated per call).
func BenchmarkAttentionPaths(b *testing.B) {
	rng := rand.New(rand.NewSource(9))
	for _, s := range attnBenchShapes {
		B, T, D, H := s.B, s.T, s.D, s.H
		hd := D / H
		qkv := randSlice(rng, B*T*3*D)
		out, probs := make([]float32, B*T*D), make([]float32, B*H*T*T)
		dout, dqkv := randSlice(rng, B*T*D), make([]float32, B*T*3*D)
		AttentionForward(out, probs, qkv, B, T, D, H)
		for _, kind := range []string{"infer", "train", "backward"} {
			for _, procs := range []int{1, 2} {
				name := fmt.Sprintf("%s_B%d_T%d/%s/w%d", s.name, B, T, kind, procs)
				b.Run(name, func(b *testing.B) {
					w := Workers(procs)
					run := func(old bool) time.Duration {
						defer func(o bool) { attnUnfused = o }(attnUnfused)
						attnUnfused = old
						t0 := time.Now()
						switch kind {
						case "infer":
							w.AttentionForward(out, nil, qkv, B, T, D, H)
						case "train":
							w.AttentionForward(out, probs, qkv, B, T, D, H)
						default:
							w.AttentionBackward(dqkv, dout, qkv, probs, nil, B, T, D, H)
						}
						return time.Since(t0)
					}
					var told, tnew []float64
					for b.Loop() {
						told = append(told, run(true).Seconds()*1e3)
						tnew = append(tnew, run(false).Seconds()*1e3)
					}
					b.ReportMetric(median(told), "old-ms")
					b.ReportMetric(median(tnew), "new-ms")
					if kind != "backward" {
						b.ReportMetric(float64(4*attnWorkspace(T, hd)), "old-ws-bytes")
						path := attnForwardPath(kind == "infer", T, hd)
						b.ReportMetric(float64(4*attnForwardWorkspace(path, T, hd)), "new-ws-bytes")
					}
				})
			}
		}
	}
}

func median(x []float64) float64 {
	if len(x) == 0 {
		return 0
	}
	x = append([]float64(nil), x...)
	sort.Float64s(x)
	return x[len(x)/2]
}

// BenchmarkAttentionTiles measures the tiled inference path's tile sizes
// (and the unfused and fused paths) on the long-sequence shapes, 1 worker.
func BenchmarkAttentionTiles(b *testing.B) {
	rng := rand.New(rand.NewSource(10))
	for _, s := range [][4]int{{32, 197, 192, 3}, {64, 100, 192, 3}, {256, 50, 192, 3}, {64, 80, 64, 4}} {
		B, T, D, H := s[0], s[1], s[2], s[3]
		qkv := randSlice(rng, B*T*3*D)
		out := make([]float32, B*T*D)
		run := func(b *testing.B) {
			for b.Loop() {
				Workers(1).AttentionForward(out, nil, qkv, B, T, D, H)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/call")
		}
		b.Run(fmt.Sprintf("T%d/unfused", T), func(b *testing.B) { withUnfused(func() { run(b) }) })
		b.Run(fmt.Sprintf("T%d/fused", T), func(b *testing.B) { withTiling(attnQB, attnKB, 1<<30, func() { run(b) }) })
		for _, tile := range [][2]int{{60, 64}, {120, 64}, {60, 128}, {96, 64}, {36, 64}} {
			b.Run(fmt.Sprintf("T%d/tiled_%dx%d", T, tile[0], tile[1]), func(b *testing.B) {
				withTiling(tile[0], tile[1], 0, func() { run(b) })
			})
		}
	}
}

// BenchmarkAttentionBackwardT finds the longest sequence for which the
// fused backward beats the unfused one (1 worker, alternating calls).
func BenchmarkAttentionBackwardT(b *testing.B) {
	rng := rand.New(rand.NewSource(11))
	for _, dh := range [][2]int{{64, 4}, {64, 2}, {192, 3}} {
		for _, T := range []int{17, 24, 32, 50, 65, 100} {
			D, H := dh[0], dh[1]
			B := 256 * 1024 / (T * T * D / H / 16)
			qkv, dout := randSlice(rng, B*T*3*D), randSlice(rng, B*T*D)
			out, probs, dqkv := make([]float32, B*T*D), make([]float32, B*H*T*T), make([]float32, B*T*3*D)
			AttentionForward(out, probs, qkv, B, T, D, H)
			b.Run(fmt.Sprintf("hd%d/T%d", D/H, T), func(b *testing.B) {
				run := func(old bool) float64 {
					defer func(o bool) { attnUnfused = o }(attnUnfused)
					attnUnfused = old
					t0 := time.Now()
					Workers(1).AttentionBackward(dqkv, dout, qkv, probs, nil, B, T, D, H)
					return time.Since(t0).Seconds() * 1e3
				}
				var told, tnew []float64
				for b.Loop() {
					told = append(told, run(true))
					tnew = append(tnew, run(false))
				}
				b.ReportMetric(median(told), "old-ms")
				b.ReportMetric(median(tnew), "new-ms")
				b.ReportMetric(median(tnew)/median(told), "new/old")
			})
		}
	}
}
