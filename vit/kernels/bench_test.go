package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// benchConfigs runs fn for every implementation and 1 and 2 goroutines.
func benchConfigs(b *testing.B, fn func(b *testing.B)) {
	for _, im := range impls() {
		for _, procs := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/procs=%d", im.name, procs), func(b *testing.B) {
				withImpl(im, func() { withProcs(procs, func() { fn(b) }) })
			})
		}
	}
}

type linShape struct{ rows, in, out int }

// The linear layers of the default model (dim 64, 17 tokens, MLP 128, batch
// 64) and of the larger one (dim 192, 50 tokens, MLP 768).
var linShapes = []linShape{
	{1088, 64, 192}, {1088, 64, 64}, {1088, 64, 128}, {1088, 128, 64},
	{3200, 192, 576}, {3200, 192, 768}, {3200, 768, 192},
}

func BenchmarkGemm(b *testing.B) {
	rng := rand.New(rand.NewSource(1))
	for _, s := range linShapes {
		// forward (A·Bᵀ), dinp (A·B) and dW (Aᵀ·B) of each linear layer.
		for _, op := range []struct {
			name           string
			tA, tB         bool
			m, n, k        int
			lda, ldb, beta int
		}{
			{"fwd", false, true, s.rows, s.out, s.in, s.in, s.in, 0},
			{"dinp", false, false, s.rows, s.in, s.out, s.out, s.in, 1},
			{"dw", true, false, s.out, s.in, s.rows, s.out, s.in, 1},
		} {
			a := randSlice(rng, s.rows*max(s.in, s.out))
			bb := randSlice(rng, s.rows*max(s.in, s.out))
			c := randSlice(rng, op.m*op.n)
			flops := 2 * float64(op.m) * float64(op.n) * float64(op.k)
			b.Run(fmt.Sprintf("%s/%dx%dx%d", op.name, op.m, op.n, op.k), func(b *testing.B) {
				benchConfigs(b, func(b *testing.B) {
					for b.Loop() {
						Gemm(op.tA, op.tB, op.m, op.n, op.k, 1, a, op.lda, bb, op.ldb, float32(op.beta), c, op.n)
					}
					b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
				})
			})
		}
	}
}

func BenchmarkLinearForward(b *testing.B) {
	rng := rand.New(rand.NewSource(2))
	for _, s := range linShapes[:4] {
		inp, w, bias := randSlice(rng, s.rows*s.in), randSlice(rng, s.out*s.in), randSlice(rng, s.out)
		out := make([]float32, s.rows*s.out)
		flops := 2 * float64(s.rows*s.in*s.out)
		b.Run(fmt.Sprintf("%dx%dx%d", s.rows, s.in, s.out), func(b *testing.B) {
			benchConfigs(b, func(b *testing.B) {
				for b.Loop() {
					LinearForward(out, inp, w, bias, s.rows, s.in, s.out)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		})
	}
}

func BenchmarkLinearBackward(b *testing.B) {
	rng := rand.New(rand.NewSource(3))
	for _, s := range linShapes[:4] {
		inp, w, dout := randSlice(rng, s.rows*s.in), randSlice(rng, s.out*s.in), randSlice(rng, s.rows*s.out)
		dinp, dw, db := make([]float32, s.rows*s.in), make([]float32, s.out*s.in), make([]float32, s.out)
		flops := 4 * float64(s.rows*s.in*s.out)
		b.Run(fmt.Sprintf("%dx%dx%d", s.rows, s.in, s.out), func(b *testing.B) {
			benchConfigs(b, func(b *testing.B) {
				for b.Loop() {
					LinearBackward(dinp, dw, db, dout, inp, w, s.rows, s.in, s.out)
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		})
	}
}

var attnShapes = [][4]int{{64, 17, 64, 4}, {64, 50, 192, 3}}

func BenchmarkAttentionForward(b *testing.B) {
	rng := rand.New(rand.NewSource(4))
	for _, s := range attnShapes {
		B, T, D, H := s[0], s[1], s[2], s[3]
		qkv := randSlice(rng, B*T*3*D)
		out, probs := make([]float32, B*T*D), make([]float32, B*H*T*T)
		b.Run(fmt.Sprintf("B%d_T%d_D%d_H%d", B, T, D, H), func(b *testing.B) {
			benchConfigs(b, func(b *testing.B) {
				for b.Loop() {
					AttentionForward(out, probs, qkv, B, T, D, H)
				}
			})
		})
	}
}

func BenchmarkAttentionBackward(b *testing.B) {
	rng := rand.New(rand.NewSource(5))
	for _, s := range attnShapes {
		B, T, D, H := s[0], s[1], s[2], s[3]
		qkv := randSlice(rng, B*T*3*D)
		out, probs := make([]float32, B*T*D), make([]float32, B*H*T*T)
		AttentionForward(out, probs, qkv, B, T, D, H)
		dout, dqkv := randSlice(rng, B*T*D), make([]float32, B*T*3*D)
		scratch := make([]float32, AttentionScratchSize(B, T, D, H))
		b.Run(fmt.Sprintf("B%d_T%d_D%d_H%d", B, T, D, H), func(b *testing.B) {
			benchConfigs(b, func(b *testing.B) {
				for b.Loop() {
					AttentionBackward(dqkv, dout, qkv, probs, scratch, B, T, D, H)
				}
			})
		})
	}
}

func BenchmarkLayerNorm(b *testing.B) {
	rng := rand.New(rand.NewSource(6))
	rows, dim := 1088, 64
	x, w, bias := randSlice(rng, rows*dim), randSlice(rng, dim), randSlice(rng, dim)
	out, mean, rstd := make([]float32, rows*dim), make([]float32, rows), make([]float32, rows)
	dx, dw, db := make([]float32, rows*dim), make([]float32, dim), make([]float32, dim)
	benchConfigs(b, func(b *testing.B) {
		for b.Loop() {
			LayerNormForward(out, mean, rstd, x, w, bias, rows, dim, 1e-6)
			LayerNormBackward(dx, dw, db, out, x, w, mean, rstd, rows, dim)
		}
	})
}

func BenchmarkGelu(b *testing.B) {
	rng := rand.New(rand.NewSource(7))
	n := 1088 * 128
	x, g := randSlice(rng, n), randSlice(rng, n)
	out, dx := make([]float32, n), make([]float32, n)
	benchConfigs(b, func(b *testing.B) {
		for b.Loop() {
			GeluForward(out, x)
			GeluBackward(dx, x, g)
		}
		b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Melem/s")
	})
}
