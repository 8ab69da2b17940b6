package kernels

import (
	"fmt"
	"math/rand"
	"testing"
	"time"
)

// The fused linear forwards give the bits of the separate calls they
// replace: LinearGeluForward those of LinearForward then GeluForward (into a
// second buffer and in place), LinearResidualForward those of LinearForward
// then AddInPlace; on every implementation, on the models' shapes and odd
// ones (rows and widths off the micro-kernels' tiles, k over one kc block,
// products big enough to run on several goroutines), with and without a
// bias, on 1 and 3 goroutines, with special values in the inputs.
func TestLinearEpilogueBitIdentical(t *testing.T) {
	forEachImpl(t, testLinearEpilogueBitIdentical)
}

func testLinearEpilogueBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewSource(24))
	sp := specialFloats()
	type shape struct{ rows, in, out int }
	shapes := []shape{{50, 192, 768}, {50, 768, 192}, {3200, 192, 768}, {3200, 768, 192}, {197, 192, 192}, {17, 64, 128},
		{1, 8, 8}, {13, 5, 7}, {37, 300, 33}, {25, 40, 72}, {500, 64, 100}}
	for si, s := range shapes {
		inp, w := randSlice(rng, s.rows*s.in), randSlice(rng, s.out*s.in)
		res := randSlice(rng, s.rows*s.out)
		for i := range inp {
			inp[i] *= 2 // pre-activations across GELU's range
		}
		if si%3 == 2 {
			for range 1 + len(inp)/300 {
				inp[rng.Intn(len(inp))] = sp[rng.Intn(len(sp))]
			}
			res[rng.Intn(len(res))] = sp[rng.Intn(len(sp))]
		}
		for _, bias := range [][]float32{nil, randSlice(rng, s.out)} {
			n := s.rows * s.out
			pre := make([]float32, n)
			Workers(1).LinearForward(pre, inp, w, bias, s.rows, s.in, s.out)
			act := make([]float32, n)
			Workers(1).GeluForward(act, pre)
			sum := clone(pre)
			AddInPlace(sum, res)
			for _, wk := range []Workers{1, 3} {
				name := fmt.Sprintf("rows=%d in=%d out=%d bias=%v workers=%d", s.rows, s.in, s.out, bias != nil, wk)
				gotPre, gotAct := make([]float32, n), make([]float32, n)
				wk.LinearGeluForward(gotAct, gotPre, inp, w, bias, s.rows, s.in, s.out)
				assertBits(t, name+" gelu pre", gotPre, pre)
				assertBits(t, name+" gelu act", gotAct, act)
				inPlace := make([]float32, n)
				wk.LinearGeluForward(inPlace, inPlace, inp, w, bias, s.rows, s.in, s.out)
				assertBits(t, name+" gelu in place", inPlace, act)
				gotSum := make([]float32, n)
				wk.LinearResidualForward(gotSum, inp, w, bias, res, s.rows, s.in, s.out)
				assertBits(t, name+" residual", gotSum, sum)
			}
		}
	}
}

// LinearGeluBackwardTo gives the bits of LinearBackwardTo into a buffer
// followed by GeluBackward on a zeroed buffer (the MLP's backward before the
// fusion): the input gradient and the accumulated weight and bias gradients,
// on every implementation, the models' shapes and odd ones (widths over the
// epilogue's 256-float segments and the GEMM's nc), special values in the
// pre-activations and the output gradient, on 1 and 3 goroutines.
func TestLinearGeluBackwardBitIdentical(t *testing.T) {
	forEachImpl(t, testLinearGeluBackwardBitIdentical)
}

func testLinearGeluBackwardBitIdentical(t *testing.T) {
	rng := rand.New(rand.NewSource(26))
	sp := specialFloats()
	type shape struct{ rows, in, out int }
	// in is the width of the GELU's output (fc2's input), out fc2's output.
	shapes := []shape{{544, 128, 64}, {1600, 768, 192}, {197, 768, 192}, {3, 600, 40}, {13, 5, 7}, {37, 300, 33}, {70, 520, 24}}
	for si, s := range shapes {
		pre := randSlice(rng, s.rows*s.in)
		for i := range pre {
			pre[i] *= 4 // across GELU's range, past ±13 now and then
		}
		act := make([]float32, len(pre))
		GeluForward(act, pre)
		dout, w := randSlice(rng, s.rows*s.out), randSlice(rng, s.out*s.in)
		if si%2 == 1 {
			for range 1 + len(pre)/200 {
				pre[rng.Intn(len(pre))] = sp[rng.Intn(len(sp))]
				dout[rng.Intn(len(dout))] = sp[rng.Intn(len(sp))]
			}
		}
		dw0, db0 := randSlice(rng, s.out*s.in), randSlice(rng, s.out)
		dact := make([]float32, s.rows*s.in)
		wantDw, wantDb := clone(dw0), clone(db0)
		Workers(1).LinearBackwardTo(dact, wantDw, wantDb, dout, act, w, s.rows, s.in, s.out)
		wantPre := make([]float32, len(pre))
		Workers(1).GeluBackward(wantPre, pre, dact)
		for _, wk := range []Workers{1, 3} {
			name := fmt.Sprintf("rows=%d in=%d out=%d workers=%d", s.rows, s.in, s.out, wk)
			dpre := randSlice(rng, len(pre)) // overwritten, not accumulated
			dw, db := clone(dw0), clone(db0)
			wk.LinearGeluBackwardTo(dpre, dw, db, dout, act, w, pre, s.rows, s.in, s.out)
			assertBits(t, name+" dpre", dpre, wantPre)
			assertBits(t, name+" dw", dw, wantDw)
			assertBits(t, name+" dbias", db, wantDb)
		}
	}
}

// BenchmarkLinearEpilogue times the MLP sub-layer's products of one
// evaluation batch of the large model and of ViT-Ti (fc1, GELU, fc2 and the
// residual add) as separate calls ("separate-ms") and through
// LinearGeluForward and LinearResidualForward ("fused-ms"), alternating
// call by call on all cores; medians per call (ns/op is meaningless).
func BenchmarkLinearEpilogue(b *testing.B) {
	rng := rand.New(rand.NewSource(25))
	for _, s := range []struct {
		name         string
		rows, d, mlp int
	}{{"large", 256 * 50, 192, 768}, {"vit-ti", 80 * 197, 192, 768}} {
		x, h := randSlice(rng, s.rows*s.d), randSlice(rng, s.rows*s.d)
		w1, b1 := randSlice(rng, s.mlp*s.d), randSlice(rng, s.mlp)
		w2, b2 := randSlice(rng, s.d*s.mlp), randSlice(rng, s.d)
		act, out := make([]float32, s.rows*s.mlp), make([]float32, s.rows*s.d)
		b.Run(s.name, func(b *testing.B) {
			var sep, fused []float64
			for b.Loop() {
				t0 := time.Now()
				AllCores.LinearForward(act, x, w1, b1, s.rows, s.d, s.mlp)
				AllCores.GeluForward(act, act)
				AllCores.LinearForward(out, act, w2, b2, s.rows, s.mlp, s.d)
				AddInPlace(out, h)
				t1 := time.Now()
				AllCores.LinearGeluForward(act, act, x, w1, b1, s.rows, s.d, s.mlp)
				AllCores.LinearResidualForward(out, act, w2, b2, h, s.rows, s.mlp, s.d)
				sep = append(sep, float64(t1.Sub(t0).Microseconds())/1e3)
				fused = append(fused, float64(time.Since(t1).Microseconds())/1e3)
			}
			b.ReportMetric(median(sep), "separate-ms")
			b.ReportMetric(median(fused), "fused-ms")
		})
	}
}
