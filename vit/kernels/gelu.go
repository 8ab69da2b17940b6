package kernels

import "math"

// GeluForward sets out = 0.5*x*(1+erf(x/sqrt2)) (exact GELU, as PyTorch's
// nn.GELU()) over len(out) elements. out may be inp (in place), as
// inference runs it.
func GeluForward(out, inp []float32) { AllCores.GeluForward(out, inp) }

// GeluForward is [GeluForward] on at most w goroutines.
func (w Workers) GeluForward(out, inp []float32) {
	n := len(out)
	checkLen("GeluForward", n, "inp", inp)
	inp = inp[:n]
	body := func(lo, hi int) { geluForward(out[lo:hi], inp[lo:hi]) }
	if n < geluParallelMin {
		body(0, n)
		return
	}
	parallelChunks(w, n, geluParallelMin/2, body)
}

// geluForward is GeluForward on the calling goroutine (lengths checked).
func geluForward(out, inp []float32) {
	if useSIMD {
		geluForwardSIMD(out, inp)
	} else {
		geluForwardGo(out, inp)
	}
}

// GeluBackward accumulates dinp += dout * GELU'(inp) over len(dinp) elements.
func GeluBackward(dinp, inp, dout []float32) { AllCores.GeluBackward(dinp, inp, dout) }

// GeluBackward is [GeluBackward] on at most w goroutines.
func (w Workers) GeluBackward(dinp, inp, dout []float32) {
	n := len(dinp)
	checkLen("GeluBackward", n, "inp", inp)
	checkLen("GeluBackward", n, "dout", dout)
	inp, dout = inp[:n], dout[:n]
	body := func(lo, hi int) { geluBackward(dinp[lo:hi], inp[lo:hi], dout[lo:hi]) }
	if n < geluParallelMin {
		body(0, n)
		return
	}
	parallelChunks(w, n, geluParallelMin/2, body)
}

// geluBackward is GeluBackward on the calling goroutine (lengths checked).
func geluBackward(dinp, inp, dout []float32) {
	if useSIMD {
		geluBackwardSIMD(dinp, inp, dout)
	} else {
		geluBackwardGo(dinp, inp, dout)
	}
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

// erfRational is Eigen's (and XLA's) float32 erf: z clamped to [-4, 4],
// z*A(z*z)/B(z*z), clamped to [-1, 1]; within a few float32 ulp of erf. The
// forward GELU uses it (the AVX2 kernel evaluates the same formula in
// float32; here float64 keeps the reference free of rounding); the backward
// pass uses geluPhi, whose tails are accurate to a relative 1e-7.
func erfRational(z float64) float64 {
	z = min(max(z, -4), 4)
	z2 := z * z
	p := -2.72614225801306e-10
	p = p*z2 + 2.77068142495902e-08
	p = p*z2 - 2.10102402082508e-06
	p = p*z2 - 5.69250639462346e-05
	p = p*z2 - 7.34990630326855e-04
	p = p*z2 - 2.95459980854025e-03
	p = p*z2 - 1.60960333262415e-02
	q := -1.45660718464996e-05
	q = q*z2 - 2.13374055278905e-04
	q = q*z2 - 1.68282697438203e-03
	q = q*z2 - 7.37332916720468e-03
	q = q*z2 - 1.42647390514189e-02
	return min(max(z*p/q, -1), 1)
}

func geluForwardGo(out, inp []float32) {
	out = out[:len(inp)]
	for i, x := range inp {
		if x < -13 {
			out[i] = 0 // also avoids -Inf*0 = NaN
			continue
		}
		h := 0.5 * float64(x)
		out[i] = float32(h + h*erfRational(float64(x)*invSqrt2))
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
