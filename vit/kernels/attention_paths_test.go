package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// withUnfused runs fn with the unfused attention forward selected.
func withUnfused(fn func()) {
	old := attnUnfused
	attnUnfused = true
	defer func() { attnUnfused = old }()
	fn()
}

// withTiling runs fn with the tiled inference path's parameters set.
func withTiling(qb, kb, minT int, fn func()) {
	oq, ok, om, od := attnQB, attnKB, attnTiledMinT, attnTiledMinD
	attnQB, attnKB, attnTiledMinT = qb, kb, minT
	if minT == 0 {
		attnTiledMinD = 0
	}
	defer func() { attnQB, attnKB, attnTiledMinT, attnTiledMinD = oq, ok, om, od }()
	fn()
}

// The fused forward is bit-identical to the unfused one, with probs
// (training) and without (inference, below the tiled path's threshold).
func TestAttentionFusedBitIdentical(t *testing.T) { forEachImpl(t, testAttentionFusedBitIdentical) }

func testAttentionFusedBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	for _, s := range [][4]int{
		{64, 17, 64, 4}, {16, 50, 192, 3}, {2, 197, 192, 3}, {1, 1, 4, 1}, {2, 3, 6, 2},
		{2, 4, 8, 2}, {3, 5, 16, 1}, {1, 33, 24, 1}, {2, 9, 12, 2}, {1, 64, 64, 1}, {1, 71, 48, 2},
		{2, 4, 16, 2}, {1, 6, 40, 1}, {1, 7, 24, 3}, {1, 8, 8, 1}, {1, 16, 32, 1}, {1, 100, 128, 2},
	} {
		B, T, D, H := s[0], s[1], s[2], s[3]
		qkv := randSlice(rng, B*T*3*D)
		if T == 17 {
			for i := range qkv { // larger scores: a peakier softmax
				qkv[i] *= 3
			}
		}
		outU, probsU, infU := make([]float32, B*T*D), make([]float32, B*H*T*T), make([]float32, B*T*D)
		withUnfused(func() {
			AttentionForward(outU, probsU, qkv, B, T, D, H)
			AttentionForward(infU, nil, qkv, B, T, D, H)
		})
		path := attnForwardPath(false, T, D/H)
		out, probs := make([]float32, B*T*D), make([]float32, B*H*T*T)
		AttentionForward(out, probs, qkv, B, T, D, H)
		name := fmt.Sprintf("B%d T%d D%d H%d path %d", B, T, D, H, path)
		assertBits(t, name+" out", out, outU)
		assertBits(t, name+" probs", probs, probsU)
		withTiling(attnQB, attnKB, 1<<30, func() {
			inf := make([]float32, B*T*D)
			AttentionForward(inf, nil, qkv, B, T, D, H)
			assertBits(t, name+" inference out", inf, infU)
		})
	}
}

// The tiled inference path agrees with the float64 reference and, to float
// rounding, with the unfused kernel, for tile sizes that do and do not
// divide T.
func TestAttentionTiled(t *testing.T) { forEachImpl(t, testAttentionTiled) }

func testAttentionTiled(t *testing.T) {
	rng := rand.New(rand.NewSource(43))
	for _, s := range [][4]int{{2, 197, 192, 3}, {3, 65, 64, 2}, {1, 130, 48, 2}, {2, 1, 4, 1}, {2, 3, 6, 2}, {1, 17, 64, 4}, {1, 50, 192, 3}} {
		B, T, D, H := s[0], s[1], s[2], s[3]
		qkv := randSlice(rng, B*T*3*D)
		wo, _ := attentionRef(qkv, B, T, D, H)
		outU := make([]float32, B*T*D)
		withUnfused(func() { AttentionForward(outU, nil, qkv, B, T, D, H) })
		for _, tile := range [][2]int{{120, 64}, {64, 64}, {32, 64}, {64, 128}, {5, 8}, {16, 24}} {
			withTiling(tile[0], tile[1], 0, func() {
				out := make([]float32, B*T*D)
				AttentionForward(out, nil, qkv, B, T, D, H)
				name := fmt.Sprintf("B%d T%d D%d H%d tile %dx%d", B, T, D, H, tile[0], tile[1])
				assertClose(t, name+" vs ref", out, wo, 1e-4, 1e-5)
				assertClose32(t, name+" vs unfused", out, outU, 2e-5, 1e-6)
				var maxAbs, maxOut, maxRef, maxRefU float64
				for i, v := range out {
					maxAbs = max(maxAbs, math.Abs(float64(v)-float64(outU[i])))
					maxOut = max(maxOut, math.Abs(float64(outU[i])))
					maxRef = max(maxRef, math.Abs(float64(v)-wo[i]))
					maxRefU = max(maxRefU, math.Abs(float64(outU[i])-wo[i]))
				}
				if tile == [2]int{120, 64} {
					t.Logf("%s: max |tiled-unfused| %.3g (%.3g of max |out| %.3g); max |x-ref64|: tiled %.3g, unfused %.3g",
						name, maxAbs, maxAbs/maxOut, maxOut, maxRef, maxRefU)
				}
			})
		}
	}
}

// Extreme scores: rows whose max moves to a later key block, and scores far
// apart (exp underflow of the rescale factor).
func TestAttentionTiledExtreme(t *testing.T) { forEachImpl(t, testAttentionTiledExtreme) }

func testAttentionTiledExtreme(t *testing.T) {
	rng := rand.New(rand.NewSource(44))
	B, T, D, H := 1, 150, 16, 1
	qkv := randSlice(rng, B*T*3*D)
	for j := 0; j < T; j++ { // growing keys: each new block has a larger max
		for d := 0; d < D; d++ {
			qkv[j*3*D+D+d] *= float32(1 + 4*j/T)
			qkv[j*3*D+d] *= 4
		}
	}
	wo, _ := attentionRef(qkv, B, T, D, H)
	withTiling(16, 16, 0, func() {
		out := make([]float32, B*T*D)
		AttentionForward(out, nil, qkv, B, T, D, H)
		assertClose(t, "extreme tiled vs ref", out, wo, 1e-4, 1e-5)
	})
}

// Every forward path gives the same bits on 1, 2 and 3 goroutines and on
// any Workers count (testDeterministic covers training; this covers the
// inference paths, fused and tiled).
func TestAttentionInferenceDeterministic(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(45))
		for _, s := range [][4]int{{64, 17, 64, 4}, {16, 50, 192, 3}, {6, 197, 192, 3}} {
			B, T, D, H := s[0], s[1], s[2], s[3]
			qkv := randSlice(rng, B*T*3*D)
			run := func(w Workers) []float32 {
				out := make([]float32, B*T*D)
				w.AttentionForward(out, nil, qkv, B, T, D, H)
				return out
			}
			var want []float32
			withProcs(1, func() { want = run(AllCores) })
			for _, procs := range []int{2, 3} {
				withProcs(procs, func() {
					assertBits(t, fmt.Sprintf("T%d procs %d", T, procs), run(AllCores), want)
					assertBits(t, fmt.Sprintf("T%d procs %d workers 1", T, procs), run(1), want)
				})
			}
		}
	})
}

// The fused backward is bit-identical to the unfused one (and so passes
// the gradient checks of TestAttentionGradCheck, which runs it).
func TestAttentionBackwardFusedBitIdentical(t *testing.T) { forEachImpl(t, testAttentionBackwardFused) }

func testAttentionBackwardFused(t *testing.T) {
	defer func(mt, md int, u bool) {
		attnBackFusedMaxT, attnBackFusedMaxD, attnUnfused = mt, md, u
	}(attnBackFusedMaxT, attnBackFusedMaxD, attnUnfused)
	// every shape the kernel takes, also under FRANKENVIT_ATTN=unfused
	attnBackFusedMaxT, attnBackFusedMaxD, attnUnfused = 1<<30, 1<<30, false
	rng := rand.New(rand.NewSource(46))
	fused := 0
	for _, s := range [][4]int{
		{64, 17, 64, 4}, {16, 50, 192, 3}, {2, 197, 192, 3}, {1, 1, 8, 1}, {2, 3, 16, 2}, {2, 4, 16, 2},
		{3, 5, 16, 1}, {1, 6, 40, 1}, {1, 7, 24, 3}, {1, 9, 48, 2}, {1, 33, 24, 1}, {1, 64, 64, 1}, {2, 9, 12, 2},
	} {
		B, T, D, H := s[0], s[1], s[2], s[3]
		qkv := randSlice(rng, B*T*3*D)
		dout := randSlice(rng, B*T*D)
		out, probs := make([]float32, B*T*D), make([]float32, B*H*T*T)
		AttentionForward(out, probs, qkv, B, T, D, H)
		base := randSlice(rng, B*T*3*D) // the backward accumulates
		want := clone(base)
		withUnfused(func() { AttentionBackward(want, dout, qkv, probs, nil, B, T, D, H) })
		got := clone(base)
		AttentionBackward(got, dout, qkv, probs, nil, B, T, D, H)
		assertBits(t, fmt.Sprintf("B%d T%d D%d H%d fused %v dqkv", B, T, D, H, attnBackFused(T, D/H)), got, want)
		if attnBackFused(T, D/H) {
			fused++
		}
	}
	if useSIMD && fused < 10 {
		t.Fatalf("only %d shapes took the fused backward", fused)
	}
	t.Logf("%d shapes took the fused backward", fused)
}

// The fused paths clear their workspaces' padding once per call and rely
// on it staying zero from pair to pair: with every pooled buffer full of
// NaNs beforehand (as another kernel may leave one), the forward and the
// backward still give the unfused path's bits.
func TestAttentionFusedDirtyWorkspace(t *testing.T) { forEachImpl(t, testAttentionFusedDirtyWorkspace) }

func testAttentionFusedDirtyWorkspace(t *testing.T) {
	rng := rand.New(rand.NewSource(44))
	for _, s := range [][4]int{{8, 17, 64, 4}, {4, 50, 192, 3}, {3, 9, 32, 2}} {
		B, T, D, H := s[0], s[1], s[2], s[3]
		qkv, dout := randSlice(rng, B*T*3*D), randSlice(rng, B*T*D)
		outU, probsU, dqkvU := make([]float32, B*T*D), make([]float32, B*H*T*T), make([]float32, B*T*3*D)
		withUnfused(func() {
			AttentionForward(outU, probsU, qkv, B, T, D, H)
			AttentionBackward(dqkvU, dout, qkv, probsU, nil, B, T, D, H)
		})
		poison := func() {
			for range 8 {
				p := getBuf(1 << 16)
				for i := range *p {
					(*p)[i] = float32(math.NaN())
				}
				putBuf(p)
			}
		}
		out, probs, dqkv := make([]float32, B*T*D), make([]float32, B*H*T*T), make([]float32, B*T*3*D)
		poison()
		Workers(1).AttentionForward(out, probs, qkv, B, T, D, H)
		poison()
		Workers(1).AttentionBackward(dqkv, dout, qkv, probs, nil, B, T, D, H)
		name := fmt.Sprintf("B%d T%d D%d H%d", B, T, D, H)
		assertBits(t, name+" out", out, outU)
		assertBits(t, name+" probs", probs, probsU)
		assertBits(t, name+" dqkv", dqkv, dqkvU)
	}
}
