package kernels

import "math"

// GeluForward sets out = 0.5*x*(1+erf(x/sqrt2)) (exact GELU, as PyTorch's
// nn.GELU()) over len(out) elements.
func GeluForward(out, inp []float32) {
	n := len(out)
	checkLen("GeluForward", n, "inp", inp)
	inp = inp[:n]
	body := func(lo, hi int) {
		if useSIMD {
			geluForwardSIMD(out[lo:hi], inp[lo:hi])
		} else {
			geluForwardGo(out[lo:hi], inp[lo:hi])
		}
	}
	if n < geluParallelMin {
		body(0, n)
		return
	}
	parallelChunks(n, geluParallelMin/2, body)
}

// GeluBackward accumulates dinp += dout * GELU'(inp) over len(dinp) elements.
func GeluBackward(dinp, inp, dout []float32) {
	n := len(dinp)
	checkLen("GeluBackward", n, "inp", inp)
	checkLen("GeluBackward", n, "dout", dout)
	inp, dout = inp[:n], dout[:n]
	body := func(lo, hi int) {
		if useSIMD {
			geluBackwardSIMD(dinp[lo:hi], inp[lo:hi], dout[lo:hi])
		} else {
			geluBackwardGo(dinp[lo:hi], inp[lo:hi], dout[lo:hi])
		}
	}
	if n < geluParallelMin {
		body(0, n)
		return
	}
	parallelChunks(n, geluParallelMin/2, body)
}

const geluParallelMin = 16 * 1024

const invSqrt2 = 0.70710678118654752440
const invSqrt2Pi = 0.39894228040143267794

// erfcPos returns erfc(z) for z >= 0 with the Chebyshev fit of Numerical
// Recipes (erfcc; fractional error < 1.2e-7 everywhere), evaluated in
// float64: the same formula the AVX2 kernel evaluates in float32.
func erfcPos(z float64) float64 {
	t := 1 / (1 + 0.5*z)
	p := -1.26551223 + t*(1.00002368+t*(0.37409196+t*(0.09678418+t*(-0.18628806+
		t*(0.27886807+t*(-1.13520398+t*(1.48851587+t*(-0.82215223+t*0.17087277))))))))
	return t * math.Exp(p-z*z)
}

// geluPhi returns the standard normal CDF Phi(x) (x finite, |x| <= 13).
func geluPhi(x float64) float64 {
	h := 0.5 * erfcPos(math.Abs(x)*invSqrt2)
	if x < 0 {
		return h
	}
	return 1 - h
}

func geluForwardGo(out, inp []float32) {
	out = out[:len(inp)]
	for i, x := range inp {
		switch {
		case x < -13:
			out[i] = 0 // |gelu| < 1e-37; also avoids -Inf*0 = NaN
		case x > 13:
			out[i] = x
		default:
			xd := float64(x)
			out[i] = float32(xd * geluPhi(xd))
		}
	}
}

func geluBackwardGo(dinp, inp, dout []float32) {
	dinp = dinp[:len(inp)]
	dout = dout[:len(inp)]
	for i, x := range inp {
		switch {
		case x < -13:
			// derivative < 1e-36
		case x > 13:
			dinp[i] += dout[i]
		default:
			xd := float64(x)
			d := geluPhi(xd) + xd*invSqrt2Pi*math.Exp(-0.5*xd*xd)
			dinp[i] += dout[i] * float32(d)
		}
	}
}
