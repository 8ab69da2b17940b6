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

// BenchmarkBlockStep runs one pre-LN transformer block forward and backward
// (the kernels the model calls, at batch 64) and reports images/s per block.
func BenchmarkBlockStep(b *testing.B) {
	// The larger model runs at batch 16 here to keep the benchmark short.
	for _, cfg := range []struct{ B, T, D, H, F int }{{64, 17, 64, 4, 128}, {16, 50, 192, 3, 768}} {
		B, T, D, H, F := cfg.B, cfg.T, cfg.D, cfg.H, cfg.F
		rows := B * T
		rng := rand.New(rand.NewSource(8))
		x := randSlice(rng, rows*D)
		ln1w, ln1b, ln2w, ln2b := randSlice(rng, D), randSlice(rng, D), randSlice(rng, D), randSlice(rng, D)
		wqkv, bqkv, wp, bp := randSlice(rng, 3*D*D), randSlice(rng, 3*D), randSlice(rng, D*D), randSlice(rng, D)
		w1, b1, w2, b2 := randSlice(rng, F*D), randSlice(rng, F), randSlice(rng, D*F), randSlice(rng, D)
		dw := func(n int) []float32 { return make([]float32, n) }
		ln1, m1, r1, qkv, probs, att, h1 := dw(rows*D), dw(rows), dw(rows), dw(rows*3*D), dw(B*H*T*T), dw(rows*D), dw(rows*D)
		ln2, m2, r2, pre, act, out := dw(rows*D), dw(rows), dw(rows), dw(rows*F), dw(rows*F), dw(rows*D)
		dout := randSlice(rng, rows*D)
		dh1, dact, dpre, dln2, datt, dqkv, dln1, dx := dw(rows*D), dw(rows*F), dw(rows*F), dw(rows*D), dw(rows*D), dw(rows*3*D), dw(rows*D), dw(rows*D)
		gw := [][]float32{dw(D), dw(D), dw(D), dw(D), dw(3 * D * D), dw(3 * D), dw(D * D), dw(D), dw(F * D), dw(F), dw(D * F), dw(D)}
		scratch := dw(AttentionScratchSize(B, T, D, H))
		b.Run(fmt.Sprintf("B%d_D%d_T%d", B, D, T), func(b *testing.B) {
			benchConfigs(b, func(b *testing.B) {
				for b.Loop() {
					LayerNormForward(ln1, m1, r1, x, ln1w, ln1b, rows, D, 1e-6)
					LinearForward(qkv, ln1, wqkv, bqkv, rows, D, 3*D)
					AttentionForward(att, probs, qkv, B, T, D, H)
					LinearForward(h1, att, wp, bp, rows, D, D)
					AddInPlace(h1, x)
					LayerNormForward(ln2, m2, r2, h1, ln2w, ln2b, rows, D, 1e-6)
					LinearForward(pre, ln2, w1, b1, rows, D, F)
					GeluForward(act, pre)
					LinearForward(out, act, w2, b2, rows, F, D)
					AddInPlace(out, h1)

					copy(dh1, dout)
					Zero(dact)
					LinearBackward(dact, gw[10], gw[11], dout, act, w2, rows, F, D)
					Zero(dpre)
					GeluBackward(dpre, pre, dact)
					Zero(dln2)
					LinearBackward(dln2, gw[8], gw[9], dpre, ln2, w1, rows, D, F)
					LayerNormBackward(dh1, gw[2], gw[3], dln2, h1, ln2w, m2, r2, rows, D)
					copy(dx, dh1)
					Zero(datt)
					LinearBackward(datt, gw[6], gw[7], dh1, att, wp, rows, D, D)
					Zero(dqkv)
					AttentionBackward(dqkv, datt, qkv, probs, scratch, B, T, D, H)
					Zero(dln1)
					LinearBackward(dln1, gw[4], gw[5], dqkv, ln1, wqkv, rows, D, 3*D)
					LayerNormBackward(dx, gw[0], gw[1], dln1, x, ln1w, m1, r1, rows, D)
				}
				b.ReportMetric(float64(B)*float64(b.N)/b.Elapsed().Seconds(), "img/s")
			})
		})
	}
}
