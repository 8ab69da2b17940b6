//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestAttnFusedAVX512BitIdentical calls attnFusedAVX512 and attnFusedAVX2
// directly (whatever path selection the environment asks for) on one pair:
// token counts around multiples of 8 and 32, head widths that are and are
// not multiples of 16 and 32, with and without probs, with rows of special
// values (NaN, ±Inf, huge values whose scores overflow, tiny ones) and
// scales that make the softmax flat or one-hot. out, probs and the
// scratch must match bit for bit.
func TestAttnFusedAVX512BitIdentical(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewSource(19))
	sp := specialFloats()
	for _, T := range []int{4, 5, 8, 9, 17, 31, 32, 33, 50, 64, 65, 197} {
		for _, hd := range []int{8, 16, 24, 32, 40, 48, 64, 96, 128} {
			for trial := 0; trial < 3; trial++ {
				D := hd + 8 // the head at column 8 of each of Q, K, V
				ld := 3 * D
				qkv := randSlice(rng, T*ld)
				switch trial {
				case 1:
					for i := 0; i < 1+T/8; i++ {
						qkv[rng.Intn(len(qkv))] = sp[rng.Intn(len(sp))]
					}
				case 2:
					for i := range qkv {
						qkv[i] *= 30 // near one-hot softmax, exp underflow
					}
				}
				scale := []float32{0.125, 1, 1e-3}[trial]
				tp := (T + 7) &^ 7
				kt := make([]float32, hd*tp)
				transposeHead(kt, qkv[D+8:], T, hd, ld, tp)
				q, v := qkv[8:], qkv[2*D+8:]
				for _, withProbs := range []bool{false, true} {
					type res struct{ out, probs, s []float32 }
					run := func(avx512 bool) (r res) {
						r.out = make([]float32, T*D)
						r.s = make([]float32, 4*tp)
						var pp *float32
						if withProbs {
							r.probs = make([]float32, T*T)
							pp = &r.probs[0]
						}
						f := attnFusedAVX2
						if avx512 {
							f = attnFusedAVX512
						}
						f(T, T, tp, hd, &q[0], ld, &kt[0], &v[0], &r.out[0], D, pp, &r.s[0], scale)
						return r
					}
					want, got := run(false), run(true)
					name := fmt.Sprintf("T=%d hd=%d trial=%d probs=%v", T, hd, trial, withProbs)
					assertBits(t, name+" out", got.out, want.out)
					assertBits(t, name+" probs", got.probs, want.probs)
					assertBits(t, name+" scratch", got.s, want.s)
				}
			}
		}
	}
}

// TestAttnFused16AVX512BitIdentical checks the 8-row kernel for 16-column
// heads against attnFusedAVX2 as TestAttnFusedAVX512BitIdentical does
// (special values, flat and one-hot softmaxes, with and without probs) at
// token counts from its smallest (8) past multiples of 8 and 32, and on
// shorter calls (m < T: the last group moved back inside the m rows).
// Scratch layouts differ (8 rows against 4), so only out and probs are
// compared.
func TestAttnFused16AVX512BitIdentical(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewSource(23))
	sp := specialFloats()
	const hd = 16
	for _, T := range []int{8, 9, 15, 16, 17, 24, 31, 32, 33, 40, 50, 64, 65, 197} {
		for trial := 0; trial < 3; trial++ {
			D := hd + 8
			ld := 3 * D
			qkv := randSlice(rng, T*ld)
			switch trial {
			case 1:
				for i := 0; i < 1+T/8; i++ {
					qkv[rng.Intn(len(qkv))] = sp[rng.Intn(len(sp))]
				}
			case 2:
				for i := range qkv {
					qkv[i] *= 30
				}
			}
			scale := []float32{0.25, 1, 1e-3}[trial]
			tp := (T + 7) &^ 7
			kt := make([]float32, hd*tp)
			transposeHead(kt, qkv[D+8:], T, hd, ld, tp)
			q, v := qkv[8:], qkv[2*D+8:]
			for _, m := range []int{T, max(8, T-3)} {
				for _, withProbs := range []bool{false, true} {
					run := func(wide bool) (out, probs []float32) {
						out = make([]float32, T*D)
						s := make([]float32, 8*tp)
						var pp *float32
						if withProbs {
							probs = make([]float32, T*T)
							pp = &probs[0]
						}
						f := attnFusedAVX2
						if wide {
							f = attnFused16AVX512
						}
						f(m, T, tp, hd, &q[0], ld, &kt[0], &v[0], &out[0], D, pp, &s[0], scale)
						return out, probs
					}
					wantOut, wantProbs := run(false)
					gotOut, gotProbs := run(true)
					name := fmt.Sprintf("T=%d m=%d trial=%d probs=%v", T, m, trial, withProbs)
					assertBits(t, name+" out", gotOut, wantOut)
					assertBits(t, name+" probs", gotProbs, wantProbs)
				}
			}
		}
	}
}

// BenchmarkAttnFusedAVX512 times the fused attention forward of one image
// (all heads, one goroutine, probs kept as in training) with attnFusedAVX2
// ("old") and attnFusedAVX512 ("new") at the models' sizes.
func BenchmarkAttnFusedAVX512(b *testing.B) {
	requireAVX512(b)
	rng := rand.New(rand.NewSource(2))
	for _, m := range []struct {
		name    string
		T, D, H int
	}{{"large", 50, 192, 3}, {"default", 17, 64, 4}} {
		T, D, H := m.T, m.D, m.H
		hd, ld, tp := D/H, 3*D, (T+7)&^7
		qkv := randSlice(rng, T*ld)
		kts := make([][]float32, H)
		for h := range kts {
			kts[h] = make([]float32, hd*tp)
			transposeHead(kts[h], qkv[D+h*hd:], T, hd, ld, tp)
		}
		out, probs, s := make([]float32, T*D), make([]float32, H*T*T), make([]float32, 8*tp)
		for _, f := range []struct {
			tag string
			fn  func(m, T, tp, hd int, q *float32, ld int, kt *float32, v *float32, out *float32, ldo int, probs *float32, s *float32, scale float32)
		}{{"old-avx2", attnFusedAVX2}, {"new-avx512", attnFusedAVX512}, {"rows8-avx512", attnFused16AVX512}} {
			if f.tag == "rows8-avx512" && hd != 16 {
				continue
			}
			b.Run(fmt.Sprintf("%s/T=%d,hd=%d,H=%d/%s", m.name, T, hd, H, f.tag), func(b *testing.B) {
				for b.Loop() {
					for h := 0; h < H; h++ {
						f.fn(T, T, tp, hd, &qkv[h*hd], ld, &kts[h][0], &qkv[2*D+h*hd], &out[h*hd], D, &probs[h*T*T], &s[0], 0.125)
					}
				}
			})
		}
	}
}

// TestAttentionTiledAVX512BitIdentical: the tiled inference forward gives
// the same bits with flashTileAVX512 (the AVX-512 GEMM active) as with
// flashTileAVX2, for head widths that are and are not multiples of 16 and
// 32 (the 6×32, 6×16 and 6×8 blocks), key blocks of 8 to 128 (odd counts of
// 8-lane exp groups), query blocks with and without padded rows, ViT-Ti's
// shape, and inputs with special values, near one-hot and flat softmaxes.
func TestAttentionTiledAVX512BitIdentical(t *testing.T) {
	requireAVX512(t)
	rng := rand.New(rand.NewSource(23))
	sp := specialFloats()
	type shape struct{ B, T, D, H int }
	shapes := []shape{{2, 197, 192, 3}, {1, 65, 64, 1}, {1, 130, 48, 2}, {1, 100, 80, 2}, {1, 77, 24, 3}, {1, 40, 16, 2}, {1, 33, 8, 1}, {1, 90, 96, 1}, {1, 5, 32, 1}}
	for _, s := range shapes {
		for _, tile := range [][2]int{{120, 64}, {60, 128}, {12, 8}, {18, 24}, {7, 40}} {
			for trial := range 3 {
				qkv := randSlice(rng, s.B*s.T*3*s.D)
				switch trial {
				case 1:
					for range 1 + s.T/8 {
						qkv[rng.Intn(len(qkv))] = sp[rng.Intn(len(sp))]
					}
				case 2:
					for i := range qkv {
						qkv[i] *= 30
					}
				}
				run := func(im *gemmImpl) []float32 {
					out := make([]float32, s.B*s.T*s.D)
					withImpl(im, func() {
						withTiling(tile[0], tile[1], 0, func() { AttentionForward(out, nil, qkv, s.B, s.T, s.D, s.H) })
					})
					return out
				}
				want, got := run(simdGemm), run(avx512Gemm)
				assertBits(t, fmt.Sprintf("B%d T%d D%d H%d tile %v trial %d", s.B, s.T, s.D, s.H, tile, trial), got, want)
			}
		}
	}
}

// BenchmarkAttentionTiledAVX512 times the tiled inference forward of one
// ViT-Ti image (197 tokens, 3 heads of 64, one goroutine) with
// flashTileAVX2 ("old") and flashTileAVX512 ("new").
func BenchmarkAttentionTiledAVX512(b *testing.B) {
	requireAVX512(b)
	rng := rand.New(rand.NewSource(3))
	const T, D, H = 197, 192, 3
	qkv, out := randSlice(rng, T*3*D), make([]float32, T*D)
	for _, im := range []*gemmImpl{simdGemm, avx512Gemm} {
		tag := "old-avx2"
		if im == avx512Gemm {
			tag = "new-avx512"
		}
		b.Run(fmt.Sprintf("vit-ti/T=%d,hd=%d,H=%d/%s", T, D/H, H, tag), func(b *testing.B) {
			withImpl(im, func() {
				for b.Loop() {
					Workers(1).AttentionForward(out, nil, qkv, 1, T, D, H)
				}
			})
		})
	}
}
