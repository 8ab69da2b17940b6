package kernels

import "math"

// GeluForward sets out = 0.5*x*(1+erf(x/sqrt2)) (exact GELU, as PyTorch's
// nn.GELU()) over len(out) elements.
func GeluForward(out, inp []float32) {
	n := len(out)
	checkLen("GeluForward", n, "inp", inp)
	inp = inp[:n]
	body := func(lo, hi int) {
		geluForwardGo(out[lo:hi], inp[lo:hi])
	}
	if n < geluParallelMin {
		body(0, n)
		return
	}
	Parallel(n, geluParallelMin/2, body)
}

// GeluBackward accumulates dinp += dout * GELU'(inp) over len(dinp) elements.
func GeluBackward(dinp, inp, dout []float32) {
	n := len(dinp)
	checkLen("GeluBackward", n, "inp", inp)
	checkLen("GeluBackward", n, "dout", dout)
	inp, dout = inp[:n], dout[:n]
	body := func(lo, hi int) {
		geluBackwardGo(dinp[lo:hi], inp[lo:hi], dout[lo:hi])
	}
	if n < geluParallelMin {
		body(0, n)
		return
	}
	Parallel(n, geluParallelMin/2, body)
}

const geluParallelMin = 16 * 1024

const invSqrt2 = 0.70710678118654752440
const invSqrt2Pi = 0.39894228040143267794

func geluForwardGo(out, inp []float32) {
	out = out[:len(inp)]
	for i, x := range inp {
		xd := float64(x)
		if xd < -40 {
			out[i] = 0 // the product underflows; also avoids -Inf*0 = NaN
			continue
		}
		out[i] = float32(0.5 * xd * (1 + math.Erf(xd*invSqrt2)))
	}
}

func geluBackwardGo(dinp, inp, dout []float32) {
	dinp = dinp[:len(inp)]
	dout = dout[:len(inp)]
	for i, x := range inp {
		xd := float64(x)
		if xd < -40 {
			continue // the derivative underflows to 0
		}
		cdf := 0.5 * (1 + math.Erf(xd*invSqrt2))
		pdf := invSqrt2Pi * math.Exp(-0.5*xd*xd)
		dinp[i] += dout[i] * float32(cdf+xd*pdf)
	}
}
