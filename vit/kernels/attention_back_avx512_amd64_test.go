//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"math/rand"
	"testing"
	"time"
)

// TestAttnBackGroupAVX512BitIdentical calls attnBackGroupAVX512 and
// attnBackGroupAVX2 directly (whatever path selection the environment asks
// for) on three groups in a row (first, middle, last, so the dV and dK sums
// are started, continued and added to the gradients): token counts around
// multiples of 8, 16 and 32, head widths that are and are not multiples of
// 16, row strides wider than the head, and inputs with special values
// (NaN, ±Inf, huge, tiny). dP/dS, dQ, the sums and dV, dK must match bit
// for bit after every group.
func TestAttnBackGroupAVX512BitIdentical(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewSource(47))
	sp := specialFloats()
	for _, T := range []int{1, 4, 5, 8, 9, 16, 17, 24, 31, 32, 33, 50, 64, 65, 97} {
		for _, hd := range []int{8, 16, 24, 32, 40, 48, 64} {
			for trial := 0; trial < 2; trial++ {
				tp := (T + 7) &^ 7
				ld, ldg, ldq, lddq := 3*hd+8, hd+3, 2*hd+1, hd+7
				fill := func(n int) []float32 {
					s := randSlice(rng, n)
					if trial == 1 {
						for i := 0; i < 1+n/16; i++ {
							s[rng.Intn(n)] = sp[rng.Intn(len(sp))]
						}
					}
					return s
				}
				k, vt := fill(T*ld), fill(hd*tp)
				type state struct{ dp, dq, dvacc, dkacc, dv, dk []float32 }
				init := state{make([]float32, 4*tp), fill(4 * lddq), fill(T * hd), fill(T * hd), fill(T * ld), fill(T * ld)}
				cp := func(s state) state {
					return state{clone(s.dp), clone(s.dq), clone(s.dvacc), clone(s.dkacc), clone(s.dv), clone(s.dk)}
				}
				want, got := cp(init), cp(init)
				for group := 0; group < 3; group++ {
					g, q, pp := fill(4*ldg), fill(4*ldq), fill(4*tp)
					first, last := group == 0, group == 2
					scale := []float32{0.25, 1e-3}[trial]
					call := func(f func(T, tp, hd int, gr *float32, ldg int, q *float32, ldq int, k *float32, ld int, vt, pp, dp, dq *float32, lddq int, dvacc, dkacc, dv, dk *float32, first, last bool, scale float32), s state) {
						f(T, tp, hd, &g[0], ldg, &q[0], ldq, &k[0], ld, &vt[0], &pp[0], &s.dp[0], &s.dq[0], lddq, &s.dvacc[0], &s.dkacc[0], &s.dv[0], &s.dk[0], first, last, scale)
					}
					call(attnBackGroupAVX2, want)
					call(attnBackGroupAVX512, got)
					name := fmt.Sprintf("T=%d hd=%d trial=%d group=%d", T, hd, trial, group)
					assertBits(t, name+" dS", got.dp, want.dp)
					assertBits(t, name+" dq", got.dq, want.dq)
					assertBits(t, name+" dV sums", got.dvacc, want.dvacc)
					assertBits(t, name+" dK sums", got.dkacc, want.dkacc)
					assertBits(t, name+" dv", got.dv, want.dv)
					assertBits(t, name+" dk", got.dk, want.dk)
				}
			}
		}
	}
}

// BenchmarkAttnBackGroupAVX512 times the fused attention backward (one
// goroutine) with attnBackGroupAVX2 ("old") and attnBackGroupAVX512
// ("new") at the shapes it takes: the default model's (hd 16, T 17) and
// longer sequences and narrower heads, on a training batch of 64 images.
func BenchmarkAttnBackGroupAVX512(b *testing.B) {
	requireAVX512(b)
	rng := rand.New(rand.NewSource(12))
	for _, s := range [][3]int{{64, 4, 17}, {64, 4, 50}, {64, 4, 64}, {64, 8, 17}} {
		D, H, T := s[0], s[1], s[2]
		if !attnBackFused(T, D/H) {
			continue
		}
		B := 64 // the training batch: the layer's data stays in L2
		qkv, dout := randSlice(rng, B*T*3*D), randSlice(rng, B*T*D)
		out, probs, dqkv := make([]float32, B*T*D), make([]float32, B*H*T*T), make([]float32, B*T*3*D)
		AttentionForward(out, probs, qkv, B, T, D, H)
		b.Run(fmt.Sprintf("hd%d/T%d", D/H, T), func(b *testing.B) {
			run := func(im *gemmImpl) (ms float64) {
				withImpl(im, func() {
					t0 := time.Now()
					for range 10 {
						Workers(1).AttentionBackward(dqkv, dout, qkv, probs, nil, B, T, D, H)
					}
					ms = time.Since(t0).Seconds() * 1e3 / 10
				})
				return ms
			}
			var told, tnew []float64
			for b.Loop() {
				told = append(told, run(simdGemm))
				tnew = append(tnew, run(avx512Gemm))
			}
			b.ReportMetric(median(told), "old-ms")
			b.ReportMetric(median(tnew), "new-ms")
			b.ReportMetric(median(tnew)/median(told), "new/old")
		})
	}
}
