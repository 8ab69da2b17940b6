package kernels

import "fmt"

func checkLen(fn string, n int, name string, s []float32) {
	if len(s) < n {
		panic(fmt.Sprintf("kernels: %s: len(%s)=%d < %d", fn, name, len(s), n))
	}
}

// Add sets out = a + b element-wise over len(out) elements. out may alias a or b.
func Add(out, a, b []float32) {
	n := len(out)
	checkLen("Add", n, "a", a)
	checkLen("Add", n, "b", b)
	if useSIMD {
		addSIMD(out, a[:n], b[:n])
		return
	}
	addGo(out, a[:n], b[:n])
}

// AddInPlace sets dst += src over len(dst) elements.
func AddInPlace(dst, src []float32) {
	n := len(dst)
	checkLen("AddInPlace", n, "src", src)
	if useSIMD {
		addSIMD(dst, dst, src[:n])
		return
	}
	addGo(dst, dst, src[:n])
}

// Axpy sets y += alpha*x over len(y) elements.
func Axpy(alpha float32, x, y []float32) {
	n := len(y)
	checkLen("Axpy", n, "x", x)
	if useSIMD {
		axpySIMD(alpha, x[:n], y)
		return
	}
	axpyGo(alpha, x[:n], y)
}

// Scale sets x *= alpha.
func Scale(x []float32, alpha float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// Zero sets every element of x to 0.
func Zero(x []float32) { clear(x) }

// Dot returns sum_i a[i]*b[i] over len(a) elements, summed in a fixed order.
func Dot(a, b []float32) float32 {
	checkLen("Dot", len(a), "b", b)
	if useSIMD {
		return dotSIMD(a, b[:len(a)])
	}
	return dotGo(a, b[:len(a)])
}

func addGo(out, a, b []float32) {
	n := len(out)
	a, b = a[:n], b[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		o := out[i : i+4 : i+4]
		x := a[i : i+4 : i+4]
		y := b[i : i+4 : i+4]
		o[0], o[1], o[2], o[3] = x[0]+y[0], x[1]+y[1], x[2]+y[2], x[3]+y[3]
	}
	for ; i < n; i++ {
		out[i] = a[i] + b[i]
	}
}

func axpyGo(alpha float32, x, y []float32) {
	n := len(y)
	x = x[:n]
	i := 0
	for ; i+4 <= n; i += 4 {
		yy := y[i : i+4 : i+4]
		xx := x[i : i+4 : i+4]
		yy[0] += alpha * xx[0]
		yy[1] += alpha * xx[1]
		yy[2] += alpha * xx[2]
		yy[3] += alpha * xx[3]
	}
	for ; i < n; i++ {
		y[i] += alpha * x[i]
	}
}

// dotGo sums with four interleaved partial sums (lane i%4... then tail),
// combined as (s0+s1)+(s2+s3).
func dotGo(a, b []float32) float32 {
	n := len(a)
	b = b[:n]
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= n; i += 4 {
		x := a[i : i+4 : i+4]
		y := b[i : i+4 : i+4]
		s0 += x[0] * y[0]
		s1 += x[1] * y[1]
		s2 += x[2] * y[2]
		s3 += x[3] * y[3]
	}
	for ; i < n; i++ {
		s0 += a[i] * b[i]
	}
	return (s0 + s1) + (s2 + s3)
}
