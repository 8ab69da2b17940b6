package kernels

import "math"

// AdamWStep applies one AdamW update to the n = len(w) elements of w, with
// gradient g and moments m and v (updated in place), in one pass:
//
//	w *= shrink  (the decoupled weight decay; 1 for tensors without decay)
//	m = b1*m + (1-b1)*g
//	v = b2*v + (1-b2)*g*g
//	w -= stepSize*m / (sqrt(v*invC2) + eps)
//
// stepSize is lr/(1-b1^t) and invC2 1/(1-b2^t). Every path (pure Go, AVX2,
// AVX-512) does these float32 operations per element in this order with no
// fused multiply-adds, so the results are the same bits on all of them.
func AdamWStep(w, g, m, v []float32, b1, b2, stepSize, invC2, eps, shrink float32) {
	n := len(w)
	checkLen("AdamWStep", n, "g", g)
	checkLen("AdamWStep", n, "m", m)
	checkLen("AdamWStep", n, "v", v)
	p := adamWParams{b1: b1, oneMinusB1: 1 - b1, b2: b2, oneMinusB2: 1 - b2, stepSize: stepSize, invC2: invC2, eps: eps, shrink: shrink}
	if useSIMD {
		adamWStepSIMD(w, g[:n], m[:n], v[:n], &p)
		return
	}
	adamWStepGo(w, g[:n], m[:n], v[:n], &p)
}

// adamWParams are AdamWStep's scalars in the order the assembly reads them.
type adamWParams struct {
	b1, oneMinusB1, b2, oneMinusB2, stepSize, invC2, eps, shrink float32
}

// adamWStepGo is the update the trainer ran before the SIMD kernels, term for
// term: (1-b2)*g*g is ((1-b2)*g)*g and the square root, taken in float64 of
// a float32, is the correctly rounded float32 root (what SQRTPS computes).
func adamWStepGo(w, g, m, v []float32, p *adamWParams) {
	n := len(w)
	g, m, v = g[:n], m[:n], v[:n]
	b1, c1, b2, c2 := p.b1, p.oneMinusB1, p.b2, p.oneMinusB2
	stepSize, invC2, eps, shrink := p.stepSize, p.invC2, p.eps, p.shrink
	for j := range w {
		w[j] *= shrink
		m[j] = b1*m[j] + c1*g[j]
		v[j] = b2*v[j] + c2*g[j]*g[j]
		denom := float32(math.Sqrt(float64(v[j]*invC2))) + eps
		w[j] -= stepSize * m[j] / denom
	}
}
