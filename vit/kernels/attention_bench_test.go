package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// attnBenchShapes are the attention shapes of the default model (28x28,
// patch 7), the large one (28x28, patch 4) and ViT-Ti (224x224, patch 16),
// with batches that make one call take roughly 10-50 ms on this machine.
var attnBenchShapes = []struct {
	name       string
	B, T, D, H int
}{
	{"default", 2048, 17, 64, 4},
	{"large", 256, 50, 192, 3},
	{"vit-ti", 16, 197, 192, 3},
}

// BenchmarkAttentionPaths runs the attention kernels old (unfused) and new
// side by side, with 1 and 2 workers, for training (forward with probs),
// inference (no probs) and the backward pass. ws-bytes is the scratch one
// goroutine of the forward holds.
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
			for _, mode := range []string{"old", "new"} {
				for _, procs := range []int{1, 2} {
					name := fmt.Sprintf("%s_B%d_T%d/%s/%s/w%d", s.name, B, T, kind, mode, procs)
					b.Run(name, func(b *testing.B) {
						w := Workers(procs)
						run := func() {
							switch kind {
							case "infer":
								w.AttentionForward(out, nil, qkv, B, T, D, H)
							case "train":
								w.AttentionForward(out, probs, qkv, B, T, D, H)
							default:
								w.AttentionBackward(dqkv, dout, qkv, probs, nil, B, T, D, H)
							}
						}
						if mode == "old" {
							old := attnUnfused
							attnUnfused = true
							defer func() { attnUnfused = old }()
						}
						for b.Loop() {
							run()
						}
						b.ReportMetric(float64(b.Elapsed().Microseconds())/1e3/float64(b.N), "ms/call")
						if kind != "backward" {
							path := attnForwardPath(kind == "infer", T, hd)
							b.ReportMetric(float64(4*attnForwardWorkspace(path, T, hd)), "ws-bytes")
						}
					})
				}
			}
		}
	}
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
