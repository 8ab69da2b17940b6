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
