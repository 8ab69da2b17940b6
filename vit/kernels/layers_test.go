package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// ---- naive float64 references ----

func linearRef(inp, w, bias []float32, rows, inDim, outDim int) []float64 {
	out := make([]float64, rows*outDim)
	for r := 0; r < rows; r++ {
		for o := 0; o < outDim; o++ {
			var s float64
			if bias != nil {
				s = float64(bias[o])
			}
			for i := 0; i < inDim; i++ {
				s += float64(inp[r*inDim+i]) * float64(w[o*inDim+i])
			}
			out[r*outDim+o] = s
		}
	}
	return out
}

func layerNormRef(inp, weight, bias []float32, rows, dim int, eps float64) (out, mean, rstd []float64) {
	out, mean, rstd = make([]float64, rows*dim), make([]float64, rows), make([]float64, rows)
	for r := 0; r < rows; r++ {
		x := inp[r*dim : (r+1)*dim]
		var m float64
		for _, v := range x {
			m += float64(v)
		}
		m /= float64(dim)
		var v2 float64
		for _, v := range x {
			v2 += (float64(v) - m) * (float64(v) - m)
		}
		rs := 1 / math.Sqrt(v2/float64(dim)+eps)
		mean[r], rstd[r] = m, rs
		for i, v := range x {
			out[r*dim+i] = (float64(v)-m)*rs*float64(weight[i]) + float64(bias[i])
		}
	}
	return
}

func attentionRef(qkv []float32, B, T, D, H int) (out, probs []float64) {
	hd := D / H
	scale := 1 / math.Sqrt(float64(hd))
	out, probs = make([]float64, B*T*D), make([]float64, B*H*T*T)
	at := func(b, t, col int) float64 { return float64(qkv[(b*T+t)*3*D+col]) }
	for b := 0; b < B; b++ {
		for h := 0; h < H; h++ {
			for i := 0; i < T; i++ {
				s := make([]float64, T)
				mx := math.Inf(-1)
				for j := 0; j < T; j++ {
					for d := 0; d < hd; d++ {
						s[j] += at(b, i, h*hd+d) * at(b, j, D+h*hd+d)
					}
					s[j] *= scale
					mx = math.Max(mx, s[j])
				}
				var sum float64
				for j := range s {
					s[j] = math.Exp(s[j] - mx)
					sum += s[j]
				}
				for j := range s {
					s[j] /= sum
					probs[((b*H+h)*T+i)*T+j] = s[j]
					for d := 0; d < hd; d++ {
						out[(b*T+i)*D+h*hd+d] += s[j] * at(b, j, 2*D+h*hd+d)
					}
				}
			}
		}
	}
	return
}

func geluRef(x float64) float64 { return 0.5 * x * math.Erfc(-x/math.Sqrt2) }

// ---- Linear ----

func TestLinearForward(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(10))
		for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {65, 17, 3}, {1088, 64, 192}, {100, 128, 64}, {37, 300, 21}, {50, 513, 40}} {
			rows, in, outD := sz[0], sz[1], sz[2]
			inp, w, bias := randSlice(rng, rows*in), randSlice(rng, outD*in), randSlice(rng, outD)
			for _, bb := range [][]float32{bias, nil} {
				out := randSlice(rng, rows*outD)
				for i := range out {
					out[i] = float32(math.NaN()) // must be overwritten
				}
				LinearForward(out, inp, w, bb, rows, in, outD)
				assertClose(t, "linear out", out, linearRef(inp, w, bb, rows, in, outD), 1e-5, 1e-5*float64(in))
			}
		}
	})
}

func TestLinearBackwardReference(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(11))
		for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {1088, 64, 192}} {
			rows, in, outD := sz[0], sz[1], sz[2]
			inp, w, dout := randSlice(rng, rows*in), randSlice(rng, outD*in), randSlice(rng, rows*outD)
			dinp0, dw0, db0 := randSlice(rng, rows*in), randSlice(rng, outD*in), randSlice(rng, outD)
			dinp, dw, db := clone(dinp0), clone(dw0), clone(db0)
			LinearBackward(dinp, dw, db, dout, inp, w, rows, in, outD)
			wantDinp := make([]float64, rows*in)
			for r := 0; r < rows; r++ {
				for i := 0; i < in; i++ {
					s := float64(dinp0[r*in+i])
					for o := 0; o < outD; o++ {
						s += float64(dout[r*outD+o]) * float64(w[o*in+i])
					}
					wantDinp[r*in+i] = s
				}
			}
			wantDw := make([]float64, outD*in)
			wantDb := make([]float64, outD)
			for o := 0; o < outD; o++ {
				sb := float64(db0[o])
				for r := 0; r < rows; r++ {
					sb += float64(dout[r*outD+o])
				}
				wantDb[o] = sb
				for i := 0; i < in; i++ {
					s := float64(dw0[o*in+i])
					for r := 0; r < rows; r++ {
						s += float64(dout[r*outD+o]) * float64(inp[r*in+i])
					}
					wantDw[o*in+i] = s
				}
			}
			tol := 1e-5 * math.Sqrt(float64(rows))
			assertClose(t, "dinp", dinp, wantDinp, 1e-5, 1e-5*math.Sqrt(float64(outD)))
			assertClose(t, "dw", dw, wantDw, tol, tol)
			assertClose(t, "dbias", db, wantDb, tol, tol)
			// nil outputs are skipped.
			LinearBackward(nil, nil, nil, dout, inp, w, rows, in, outD)
			LinearBackward(nil, dw, nil, dout, inp, w, rows, in, outD)
		}
	})
}

func TestLinearGradCheck(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(12))
		rows, in, outD := 5, 7, 3
		inp, w, bias := randSlice(rng, rows*in), randSlice(rng, outD*in), randSlice(rng, outD)
		g := randSlice(rng, rows*outD)
		out := make([]float32, rows*outD)
		loss := func() float64 {
			LinearForward(out, inp, w, bias, rows, in, outD)
			return sumProd(out, g)
		}
		dinp, dw, db := make([]float32, len(inp)), make([]float32, len(w)), make([]float32, len(bias))
		LinearBackward(dinp, dw, db, g, inp, w, rows, in, outD)
		gradCheck(t, "linear dinp", rng, inp, dinp, loss, 1e-2, 40)
		gradCheck(t, "linear dw", rng, w, dw, loss, 1e-2, 40)
		gradCheck(t, "linear dbias", rng, bias, db, loss, 1e-2, 40)
	})
}

// ---- LayerNorm ----

func TestLayerNormForward(t *testing.T) { forEachImpl(t, testLayerNormForward) }

func testLayerNormForward(t *testing.T) {
	rng := rand.New(rand.NewSource(20))
	for _, sz := range [][2]int{{1, 1}, {3, 5}, {17, 33}, {1088, 64}, {65, 192}} {
		rows, dim := sz[0], sz[1]
		inp := randSlice(rng, rows*dim)
		for i := range inp {
			inp[i] = inp[i]*3 + 1.5
		}
		w, b := randSlice(rng, dim), randSlice(rng, dim)
		out, mean, rstd := make([]float32, rows*dim), make([]float32, rows), make([]float32, rows)
		LayerNormForward(out, mean, rstd, inp, w, b, rows, dim, 1e-6)
		wo, wm, wr := layerNormRef(inp, w, b, rows, dim, 1e-6)
		assertClose(t, "ln out", out, wo, 1e-4, 1e-4)
		assertClose(t, "ln mean", mean, wm, 1e-5, 1e-5)
		assertClose(t, "ln rstd", rstd, wr, 1e-3, 1e-5) // dim 1 gives rstd = 1/sqrt(eps)
	}
}

func TestLayerNormGradCheck(t *testing.T) { forEachImpl(t, testLayerNormGradCheck) }

func testLayerNormGradCheck(t *testing.T) {
	rng := rand.New(rand.NewSource(21))
	for _, sz := range [][2]int{{3, 5}, {4, 33}, {3, 16}, {2, 64}, {1, 8}} {
		rows, dim := sz[0], sz[1]
		inp, w, b := randSlice(rng, rows*dim), randSlice(rng, dim), randSlice(rng, dim)
		g := randSlice(rng, rows*dim)
		out, mean, rstd := make([]float32, rows*dim), make([]float32, rows), make([]float32, rows)
		loss := func() float64 {
			LayerNormForward(out, mean, rstd, inp, w, b, rows, dim, 1e-6)
			return sumProd(out, g)
		}
		loss()
		dinp, dw, db := make([]float32, len(inp)), make([]float32, dim), make([]float32, dim)
		LayerNormBackward(dinp, dw, db, g, inp, w, mean, rstd, rows, dim)
		gradCheck(t, "ln dinp", rng, inp, dinp, loss, 1e-2, 40)
		gradCheck(t, "ln dweight", rng, w, dw, loss, 1e-2, 40)
		gradCheck(t, "ln dbias", rng, b, db, loss, 1e-2, 40)
	}
}

// TestLayerNormBackwardReference checks all three gradients against a float64
// implementation of the same formulas, on sizes the SIMD path takes too.
func TestLayerNormBackwardReference(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(22))
		for _, sz := range [][2]int{{5, 7}, {33, 64}, {1088, 64}, {70, 192}, {9, 24}} {
			rows, dim := sz[0], sz[1]
			inp, w, b, g := randSlice(rng, rows*dim), randSlice(rng, dim), randSlice(rng, dim), randSlice(rng, rows*dim)
			out, mean, rstd := make([]float32, rows*dim), make([]float32, rows), make([]float32, rows)
			LayerNormForward(out, mean, rstd, inp, w, b, rows, dim, 1e-6)
			dinp0, dw0, db0 := randSlice(rng, rows*dim), randSlice(rng, dim), randSlice(rng, dim)
			dinp, dw, db := clone(dinp0), clone(dw0), clone(db0)
			LayerNormBackward(dinp, dw, db, g, inp, w, mean, rstd, rows, dim)
			wantDinp := make([]float64, rows*dim)
			wantDw, wantDb := make([]float64, dim), make([]float64, dim)
			for i := range wantDw {
				wantDw[i], wantDb[i] = float64(dw0[i]), float64(db0[i])
			}
			for r := 0; r < rows; r++ {
				m, rs := float64(mean[r]), float64(rstd[r])
				var sd, sdn float64
				for i := 0; i < dim; i++ {
					norm := (float64(inp[r*dim+i]) - m) * rs
					dn := float64(g[r*dim+i]) * float64(w[i])
					sd += dn
					sdn += dn * norm
					wantDw[i] += float64(g[r*dim+i]) * norm
					wantDb[i] += float64(g[r*dim+i])
				}
				sd /= float64(dim)
				sdn /= float64(dim)
				for i := 0; i < dim; i++ {
					norm := (float64(inp[r*dim+i]) - m) * rs
					dn := float64(g[r*dim+i]) * float64(w[i])
					wantDinp[r*dim+i] = float64(dinp0[r*dim+i]) + (dn-sd-norm*sdn)*rs
				}
			}
			tol := 1e-5 * math.Sqrt(float64(rows))
			assertClose(t, "ln dinp", dinp, wantDinp, 1e-4, 1e-4)
			assertClose(t, "ln dweight", dw, wantDw, tol, tol)
			assertClose(t, "ln dbias", db, wantDb, tol, tol)
		}
	})
}

// ---- GELU ----

func TestGeluForward(t *testing.T) { forEachImpl(t, testGeluForward) }

func testGeluForward(t *testing.T) {
	xs := []float32{0, 1e-30, -1e-30, 1e-8, -1e-8, 1e-4, -1e-4, 0.1, -0.1, 0.5, -0.5, 0.7071, 1, -1, 2, -2, 3, -3,
		4, -4, 5, -5, 6, -6, 7, -7, 8, -8, 9.3, -9.3, 10, -10, 13, -13, 20, -20, 50, -50, 1e10, -1e10,
		float32(math.Inf(1)), float32(math.Inf(-1))}
	rng := rand.New(rand.NewSource(30))
	for i := 0; i < 20000; i++ {
		xs = append(xs, float32(rng.NormFloat64()*3))
		xs = append(xs, float32((rng.Float64()*2-1)*12))
	}
	out := make([]float32, len(xs))
	GeluForward(out, xs)
	inPlace := clone(xs)
	GeluForward(inPlace, inPlace)
	assertBits(t, "GeluForward in place", inPlace, out)
	for i, x := range xs {
		want := geluRef(float64(x))
		if math.IsInf(float64(x), 0) || math.Abs(float64(x)) > 1e9 {
			if x > 0 && out[i] != x || x < 0 && out[i] != 0 {
				t.Errorf("gelu(%g) = %g", x, out[i])
			}
			continue
		}
		if float32(want) == 0 && out[i] == 0 {
			continue
		}
		// relative error ~1e-6, or absolute 2e-7*|x| where 1+erf cancels (x < 0)
		if !closeTo(float64(out[i]), want, 2e-6, 1e-37) && math.Abs(float64(out[i])-want) > 2e-7*math.Abs(float64(x)) {
			t.Errorf("gelu(%g) = %.9g, want %.9g (rel err %.3g)", x, out[i], want, math.Abs(float64(out[i])-want)/math.Abs(want))
		}
	}
}

func TestGeluGrad(t *testing.T) { forEachImpl(t, testGeluGrad) }

func testGeluGrad(t *testing.T) {
	rng := rand.New(rand.NewSource(31))
	n := 300
	x := randSlice(rng, n)
	for i := range x {
		x[i] *= 3
	}
	g := randSlice(rng, n)
	d0 := randSlice(rng, n)
	d := clone(d0)
	GeluBackward(d, x, g)
	for i := range x {
		xd := float64(x[i])
		want := float64(d0[i]) + float64(g[i])*(0.5*math.Erfc(-xd/math.Sqrt2)+xd*math.Exp(-xd*xd/2)/math.Sqrt(2*math.Pi))
		if !closeTo(float64(d[i]), want, 1e-5, 1e-6) {
			t.Errorf("gelu'(%g): got %g want %g", x[i], d[i], want)
		}
	}
	out := make([]float32, n)
	loss := func() float64 { GeluForward(out, x); return sumProd(out, g) }
	dx := make([]float32, n)
	GeluBackward(dx, x, g)
	gradCheck(t, "gelu", rng, x, dx, loss, 1e-2, 60)
}

// ---- Attention ----

func TestAttentionForward(t *testing.T) { forEachImpl(t, testAttentionForward) }

func testAttentionForward(t *testing.T) {
	rng := rand.New(rand.NewSource(40))
	for _, s := range [][4]int{{1, 1, 4, 1}, {2, 3, 6, 2}, {3, 17, 64, 4}, {2, 50, 192, 3}, {64, 17, 64, 4}, {2, 8, 16, 2}, {1, 33, 24, 1}} {
		B, T, D, H := s[0], s[1], s[2], s[3]
		qkv := randSlice(rng, B*T*3*D)
		out, probs := make([]float32, B*T*D), make([]float32, B*H*T*T)
		AttentionForward(out, probs, qkv, B, T, D, H)
		wo, wp := attentionRef(qkv, B, T, D, H)
		assertClose(t, "attn out", out, wo, 1e-4, 1e-5)
		assertClose(t, "attn probs", probs, wp, 1e-4, 1e-6)
	}
}

func TestAttentionGradCheck(t *testing.T) { forEachImpl(t, testAttentionGradCheck) }

func testAttentionGradCheck(t *testing.T) {
	rng := rand.New(rand.NewSource(41))
	for _, s := range [][4]int{{1, 1, 4, 1}, {2, 3, 6, 2}, {2, 5, 8, 2}, {1, 17, 64, 4}, {1, 9, 48, 3}, {1, 6, 128, 2}} {
		B, T, D, H := s[0], s[1], s[2], s[3]
		qkv := randSlice(rng, B*T*3*D)
		g := randSlice(rng, B*T*D)
		out, probs := make([]float32, B*T*D), make([]float32, B*H*T*T)
		loss := func() float64 {
			AttentionForward(out, probs, qkv, B, T, D, H)
			return sumProd(out, g)
		}
		loss()
		dqkv := make([]float32, len(qkv))
		AttentionBackward(dqkv, g, qkv, probs, make([]float32, AttentionScratchSize(B, T, D, H)), B, T, D, H)
		gradCheck(t, "attn dqkv", rng, qkv, dqkv, loss, 1e-2, 80)
		// nil scratch is allowed and gives the same result.
		loss()
		d2 := make([]float32, len(qkv))
		AttentionBackward(d2, g, qkv, probs, nil, B, T, D, H)
		assertBits(t, "nil scratch", d2, dqkv)
	}
}

// ---- Softmax cross-entropy ----

func TestSoftmaxCrossEntropy(t *testing.T) {
	rng := rand.New(rand.NewSource(50))
	rows, classes := 7, 10
	logits := randSlice(rng, rows*classes)
	logits[3] = 200 // large logits stay stable
	logits[classes+2] = -200
	targets := make([]int32, rows)
	for i := range targets {
		targets[i] = int32(rng.Intn(classes))
	}
	targets[1] = 2 // the -200 logit: loss ~200, finite
	probs, losses := make([]float32, rows*classes), make([]float32, rows)
	SoftmaxCrossEntropyForward(probs, losses, logits, targets, rows, classes)
	for r := 0; r < rows; r++ {
		x := logits[r*classes : (r+1)*classes]
		mx := math.Inf(-1)
		for _, v := range x {
			mx = math.Max(mx, float64(v))
		}
		var s float64
		for _, v := range x {
			s += math.Exp(float64(v) - mx)
		}
		var ps float64
		for i, v := range x {
			p := math.Exp(float64(v)-mx) / s
			ps += float64(probs[r*classes+i])
			if !closeTo(float64(probs[r*classes+i]), p, 1e-6, 1e-30) {
				t.Errorf("prob[%d,%d] = %g want %g", r, i, probs[r*classes+i], p)
			}
		}
		if math.Abs(ps-1) > 1e-5 {
			t.Errorf("row %d probs sum %g", r, ps)
		}
		want := math.Log(s) + mx - float64(x[targets[r]])
		if !closeTo(float64(losses[r]), want, 1e-6, 1e-6) {
			t.Errorf("loss[%d] = %g want %g", r, losses[r], want)
		}
	}
	// gradient check of L = sum_r losses[r] * scale
	logits[3], logits[classes+2] = 1, -1
	scale := float32(1.0 / 3)
	loss := func() float64 {
		SoftmaxCrossEntropyForward(probs, losses, logits, targets, rows, classes)
		var s float64
		for _, l := range losses {
			s += float64(l) * float64(scale)
		}
		return s
	}
	loss()
	d := make([]float32, rows*classes)
	SoftmaxCrossEntropyBackward(d, probs, targets, rows, classes, scale)
	gradCheck(t, "softmax-ce", rng, logits, d, loss, 1e-2, 70)
	loss()
	d2 := clone(d)
	SoftmaxCrossEntropyBackward(d2, probs, targets, rows, classes, scale)
	for i := range d {
		if !closeTo(float64(d2[i]), 2*float64(d[i]), 1e-6, 1e-7) {
			t.Fatalf("accumulation: %g != 2*%g", d2[i], d[i])
		}
	}
}

// ---- accumulation semantics ----

func TestBackwardAccumulates(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(60))
		check := func(name string, once, twice []float32) {
			t.Helper()
			for i := range once {
				if !closeTo(float64(twice[i]), 2*float64(once[i]), 1e-5, 1e-6) {
					t.Fatalf("%s[%d]: twice %g != 2*once %g", name, i, twice[i], once[i])
				}
			}
		}
		// Linear
		rows, in, outD := 33, 17, 9
		inp, w, dout := randSlice(rng, rows*in), randSlice(rng, outD*in), randSlice(rng, rows*outD)
		run := func(n int) (a, b, c []float32) {
			a, b, c = make([]float32, rows*in), make([]float32, outD*in), make([]float32, outD)
			for i := 0; i < n; i++ {
				LinearBackward(a, b, c, dout, inp, w, rows, in, outD)
			}
			return
		}
		a1, b1, c1 := run(1)
		a2, b2, c2 := run(2)
		check("linear dinp", a1, a2)
		check("linear dw", b1, b2)
		check("linear dbias", c1, c2)
		// LayerNorm
		dim := 33
		x, lw, lb := randSlice(rng, rows*dim), randSlice(rng, dim), randSlice(rng, dim)
		g := randSlice(rng, rows*dim)
		out, mean, rstd := make([]float32, rows*dim), make([]float32, rows), make([]float32, rows)
		LayerNormForward(out, mean, rstd, x, lw, lb, rows, dim, 1e-6)
		lrun := func(n int) (a, b, c []float32) {
			a, b, c = make([]float32, rows*dim), make([]float32, dim), make([]float32, dim)
			for i := 0; i < n; i++ {
				LayerNormBackward(a, b, c, g, x, lw, mean, rstd, rows, dim)
			}
			return
		}
		la1, lb1, lc1 := lrun(1)
		la2, lb2, lc2 := lrun(2)
		check("ln dinp", la1, la2)
		check("ln dweight", lb1, lb2)
		check("ln dbias", lc1, lc2)
		// GELU
		gd1, gd2 := make([]float32, len(x)), make([]float32, len(x))
		GeluBackward(gd1, x, g)
		GeluBackward(gd2, x, g)
		GeluBackward(gd2, x, g)
		check("gelu", gd1, gd2)
		// Attention
		B, T, D, H := 2, 5, 8, 2
		qkv := randSlice(rng, B*T*3*D)
		ao, ap := make([]float32, B*T*D), make([]float32, B*H*T*T)
		AttentionForward(ao, ap, qkv, B, T, D, H)
		ag := randSlice(rng, B*T*D)
		ad1, ad2 := make([]float32, len(qkv)), make([]float32, len(qkv))
		AttentionBackward(ad1, ag, qkv, ap, nil, B, T, D, H)
		AttentionBackward(ad2, ag, qkv, ap, nil, B, T, D, H)
		AttentionBackward(ad2, ag, qkv, ap, nil, B, T, D, H)
		check("attention", ad1, ad2)
	})
}

// ---- determinism across GOMAXPROCS ----

func TestDeterministicAcrossThreads(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		for _, cfg := range [][5]int{{64, 17, 64, 4, 128}, {16, 50, 192, 3, 768}} {
			testDeterministic(t, cfg[0], cfg[1], cfg[2], cfg[3], cfg[4])
		}
	})
}

func testDeterministic(t *testing.T, B, T, D, H, F int) {
	{
		rng := rand.New(rand.NewSource(70))
		rows := B * T
		x := randSlice(rng, rows*D)
		lw, lb := randSlice(rng, D), randSlice(rng, D)
		w1, b1 := randSlice(rng, F*D), randSlice(rng, F)
		wq, bq := randSlice(rng, 3*D*D), randSlice(rng, 3*D)
		gF := randSlice(rng, rows*F)
		gD := randSlice(rng, rows*D)
		run := func() [][]float32 {
			ln, mean, rstd := make([]float32, rows*D), make([]float32, rows), make([]float32, rows)
			LayerNormForward(ln, mean, rstd, x, lw, lb, rows, D, 1e-6)
			pre := make([]float32, rows*F)
			LinearForward(pre, ln, w1, b1, rows, D, F)
			act := make([]float32, rows*F)
			GeluForward(act, pre)
			dpre := make([]float32, rows*F)
			GeluBackward(dpre, pre, gF)
			dln, dw1, db1 := make([]float32, rows*D), make([]float32, F*D), make([]float32, F)
			LinearBackward(dln, dw1, db1, dpre, ln, w1, rows, D, F)
			dx, dlw, dlb := make([]float32, rows*D), make([]float32, D), make([]float32, D)
			LayerNormBackward(dx, dlw, dlb, dln, x, lw, mean, rstd, rows, D)
			qkv := make([]float32, rows*3*D)
			LinearForward(qkv, ln, wq, bq, rows, D, 3*D)
			att, probs := make([]float32, rows*D), make([]float32, B*H*T*T)
			AttentionForward(att, probs, qkv, B, T, D, H)
			dqkv := make([]float32, rows*3*D)
			AttentionBackward(dqkv, gD, qkv, probs, nil, B, T, D, H)
			colsum := make([]float32, 3*D)
			LinearBackward(nil, nil, colsum, dqkv, ln, wq, rows, D, 3*D)
			return [][]float32{ln, mean, rstd, pre, act, dpre, dln, dw1, db1, dx, dlw, dlb, qkv, att, probs, dqkv, colsum}
		}
		var r1, r2 [][]float32
		withProcs(1, func() { r1 = run() })
		withProcs(2, func() { r2 = run() })
		names := []string{"ln", "mean", "rstd", "pre", "act", "dpre", "dln", "dw1", "db1", "dx", "dlw", "dlb", "qkv", "att", "probs", "dqkv", "colsum"}
		for i := range r1 {
			assertBits(t, names[i], r2[i], r1[i])
		}
		withProcs(2, func() { r2 = run() })
		for i := range r1 {
			assertBits(t, "rerun "+names[i], r2[i], r1[i])
		}
		withProcs(3, func() { r2 = run() })
		for i := range r1 {
			assertBits(t, "procs 3 "+names[i], r2[i], r1[i])
		}
	}
}

func TestLayerNormNilAffine(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(23))
		rows, dim := 9, 16
		inp := randSlice(rng, rows*dim)
		ones, zeros := make([]float32, dim), make([]float32, dim)
		for i := range ones {
			ones[i] = 1
		}
		out1, out2 := make([]float32, rows*dim), make([]float32, rows*dim)
		m, r := make([]float32, rows), make([]float32, rows)
		LayerNormForward(out1, m, r, inp, nil, nil, rows, dim, 1e-6)
		LayerNormForward(out2, m, r, inp, ones, zeros, rows, dim, 1e-6)
		assertClose32(t, "ln nil affine", out1, out2, 1e-6, 1e-6)
		g := randSlice(rng, rows*dim)
		d1, d2 := make([]float32, rows*dim), make([]float32, rows*dim)
		LayerNormBackward(d1, nil, nil, g, inp, nil, m, r, rows, dim)
		LayerNormBackward(d2, nil, nil, g, inp, ones, m, r, rows, dim)
		assertClose32(t, "ln nil weight dinp", d1, d2, 1e-5, 1e-5)
	})
}

// ---- vector helpers ----

func TestVectorHelpers(t *testing.T) { forEachImpl(t, testVectorHelpers) }

func testVectorHelpers(t *testing.T) {
	rng := rand.New(rand.NewSource(80))
	for _, n := range []int{0, 1, 3, 7, 8, 9, 16, 31, 32, 33, 64, 65, 100, 1000} {
		a, b := randSlice(rng, n), randSlice(rng, n)
		out := make([]float32, n)
		Add(out, a, b)
		for i := range out {
			if out[i] != a[i]+b[i] {
				t.Fatalf("Add n=%d", n)
			}
		}
		al := clone(a)
		Add(al, al, b) // aliasing
		assertBits(t, "Add alias", al, out)
		d := clone(a)
		AddInPlace(d, b)
		assertBits(t, "AddInPlace", d, out)
		y := clone(b)
		Axpy(0.75, a, y)
		for i := range y {
			if !closeTo(float64(y[i]), float64(b[i])+0.75*float64(a[i]), 1e-6, 1e-6) {
				t.Fatalf("Axpy n=%d i=%d", n, i)
			}
		}
		s := clone(a)
		Scale(s, -2)
		for i := range s {
			if s[i] != -2*a[i] {
				t.Fatalf("Scale n=%d", n)
			}
		}
		Zero(s)
		for _, v := range s {
			if v != 0 {
				t.Fatal("Zero")
			}
		}
		var want float64
		for i := range a {
			want += float64(a[i]) * float64(b[i])
		}
		if got := Dot(a, b); !closeTo(float64(got), want, 1e-5, 1e-5*math.Sqrt(float64(n))) {
			t.Fatalf("Dot n=%d: %g want %g", n, got, want)
		}
	}
}

// TestGeluAccuracyGrid checks GELU and its derivative on a dense grid over
// [-14, 14] against float64 math.Erfc. The forward pass computes
// x/2*(1+erf(x/sqrt2)) in float32 as PyTorch does, so for negative x the sum
// cancels and only the absolute error is small: < 2e-7*max(1, |x|), and the
// relative error < 2e-6 where x > -1. The derivative's absolute error < 5e-7.
func TestGeluAccuracyGrid(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		n := 1 << 20
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = float32(-14 + 28*float64(i)/float64(n-1))
		}
		out, d, g := make([]float32, n), make([]float32, n), make([]float32, n)
		for i := range g {
			g[i] = 1
		}
		GeluForward(out, xs)
		GeluBackward(d, xs, g)
		var maxRel, maxAbs, maxAbsD float64
		for i, x := range xs {
			xd := float64(x)
			w := geluRef(xd)
			e := math.Abs(float64(out[i]) - w)
			maxAbs = math.Max(maxAbs, e/math.Max(1, math.Abs(xd)))
			if xd > -1 && w != 0 {
				maxRel = math.Max(maxRel, e/math.Abs(w))
			}
			wd := 0.5*math.Erfc(-xd/math.Sqrt2) + xd*math.Exp(-xd*xd/2)/math.Sqrt(2*math.Pi)
			maxAbsD = math.Max(maxAbsD, math.Abs(float64(d[i])-wd))
		}
		t.Logf("max abs error / max(1,|x|) %.3g, relative error (x > -1) %.3g, derivative max abs error %.3g",
			maxAbs, maxRel, maxAbsD)
		if maxAbs > 2e-7 || maxRel > 2e-6 || maxAbsD > 5e-7 {
			t.Fatalf("GELU too inaccurate: abs %.3g, rel %.3g, derivative abs %.3g", maxAbs, maxRel, maxAbsD)
		}
	})
}

// TestSIMDMatchesGo runs every public kernel through both implementations on
// the same inputs and compares the results.
func TestSIMDMatchesGo(t *testing.T) {
	if len(impls()) < 2 {
		t.Skip("no SIMD implementation on this machine/build")
	}
	rng := rand.New(rand.NewSource(100))
	B, T, D, H, F := 3, 17, 64, 4, 128
	rows := B * T
	x := randSlice(rng, rows*D)
	lw, lb := randSlice(rng, D), randSlice(rng, D)
	w1, b1 := randSlice(rng, F*D), randSlice(rng, F)
	gD, gF := randSlice(rng, rows*D), randSlice(rng, rows*F)
	qkv := randSlice(rng, rows*3*D)
	run := func() [][]float32 {
		ln, mean, rstd := make([]float32, rows*D), make([]float32, rows), make([]float32, rows)
		LayerNormForward(ln, mean, rstd, x, lw, lb, rows, D, 1e-6)
		dx, dlw, dlb := make([]float32, rows*D), make([]float32, D), make([]float32, D)
		LayerNormBackward(dx, dlw, dlb, gD, x, lw, mean, rstd, rows, D)
		pre := make([]float32, rows*F)
		LinearForward(pre, ln, w1, b1, rows, D, F)
		dln, dw1, db1 := make([]float32, rows*D), make([]float32, F*D), make([]float32, F)
		LinearBackward(dln, dw1, db1, gF, ln, w1, rows, D, F)
		act, dpre := make([]float32, rows*F), make([]float32, rows*F)
		GeluForward(act, pre)
		GeluBackward(dpre, pre, gF)
		att, probs := make([]float32, rows*D), make([]float32, B*H*T*T)
		AttentionForward(att, probs, qkv, B, T, D, H)
		dqkv := make([]float32, rows*3*D)
		AttentionBackward(dqkv, gD, qkv, probs, nil, B, T, D, H)
		sum := make([]float32, rows*D)
		Add(sum, x, gD)
		ax := clone(gD)
		Axpy(0.3, x, ax)
		return [][]float32{ln, mean, rstd, dx, dlw, dlb, pre, dln, dw1, db1, act, dpre, att, probs, dqkv, sum, ax, {Dot(x, gD)}}
	}
	var rg, rs [][]float32
	withImpl(genericGemm, func() { rg = run() })
	withImpl(simdGemm, func() { rs = run() })
	names := []string{"ln", "mean", "rstd", "dx", "dlw", "dlb", "pre", "dln", "dw1", "db1", "act", "dpre", "att", "probs", "dqkv", "add", "axpy", "dot"}
	for i := range rg {
		assertClose32(t, "simd vs go "+names[i], rs[i], rg[i], 1e-4, 1e-4)
	}
}

// TestLinearBackwardTo: dinp is overwritten (NaN garbage in it is never
// read) with the bits LinearBackward gives on a zeroed dinp; dw and dbias
// accumulate alike.
func TestLinearBackwardTo(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(12))
		for _, sz := range [][3]int{{1, 1, 1}, {3, 5, 7}, {17, 33, 65}, {544, 64, 192}, {100, 192, 768}, {50, 768, 192}} {
			rows, in, outD := sz[0], sz[1], sz[2]
			inp, w, dout := randSlice(rng, rows*in), randSlice(rng, outD*in), randSlice(rng, rows*outD)
			dw0, db0 := randSlice(rng, outD*in), randSlice(rng, outD)
			want, wantDw, wantDb := make([]float32, rows*in), clone(dw0), clone(db0)
			AllCores.LinearBackward(want, wantDw, wantDb, dout, inp, w, rows, in, outD)
			got, gotDw, gotDb := make([]float32, rows*in), clone(dw0), clone(db0)
			for i := range got {
				got[i] = float32(math.NaN())
			}
			AllCores.LinearBackwardTo(got, gotDw, gotDb, dout, inp, w, rows, in, outD)
			name := fmt.Sprintf("%dx%dx%d", rows, in, outD)
			assertBits(t, name+" dinp", got, want)
			assertBits(t, name+" dw", gotDw, wantDw)
			assertBits(t, name+" dbias", gotDb, wantDb)
		}
	})
}
