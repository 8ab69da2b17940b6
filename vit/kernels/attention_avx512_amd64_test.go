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
		out, probs, s := make([]float32, T*D), make([]float32, H*T*T), make([]float32, 4*tp)
		for _, f := range []struct {
			tag string
			fn  func(m, T, tp, hd int, q *float32, ld int, kt *float32, v *float32, out *float32, ldo int, probs *float32, s *float32, scale float32)
		}{{"old-avx2", attnFusedAVX2}, {"new-avx512", attnFusedAVX512}} {
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
