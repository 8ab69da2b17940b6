package kernels

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand"
	"testing"
)

// adamWReference is the trainer's AdamW loop before AdamWStep, verbatim: the
// weight decay pass over w first (only for decayed tensors), then the update.
func adamWReference(w, g, m, v []float32, lr, wd float64, t int, decay bool) {
	b1, b2 := 0.9, 0.999
	c1 := 1 - math.Pow(b1, float64(t))
	c2 := 1 - math.Pow(b2, float64(t))
	stepSize := float32(lr / c1)
	invC2 := float32(1 / c2)
	eps := float32(1e-8)
	fb1, fb2 := float32(b1), float32(b2)
	if decay && wd != 0 {
		shrink := float32(1 - lr*wd)
		for j := range w {
			w[j] *= shrink
		}
	}
	for j := range w {
		m[j] = fb1*m[j] + (1-fb1)*g[j]
		v[j] = fb2*v[j] + (1-fb2)*g[j]*g[j]
		denom := float32(math.Sqrt(float64(v[j]*invC2))) + eps
		w[j] -= stepSize * m[j] / denom
	}
}

// adamWViaKernel is adamWReference's update through AdamWStep, with its
// scalars computed as the trainer computes them.
func adamWViaKernel(w, g, m, v []float32, lr, wd float64, t int, decay bool) {
	b1, b2 := 0.9, 0.999
	c1 := 1 - math.Pow(b1, float64(t))
	c2 := 1 - math.Pow(b2, float64(t))
	shrink := float32(1)
	if decay && wd != 0 {
		shrink = float32(1 - lr*wd)
	}
	AdamWStep(w, g, m, v, float32(b1), float32(b2), float32(lr/c1), float32(1/c2), float32(1e-8), shrink)
}

// adamWCase checks AdamWStep against adamWReference bit for bit on copies
// of the same inputs.
func adamWCase(t *testing.T, name string, w, g, m, v []float32, lr, wd float64, step int, decay bool) {
	t.Helper()
	w0, m0, v0 := clone(w), clone(m), clone(v)
	w1, m1, v1 := clone(w), clone(m), clone(v)
	adamWReference(w0, g, m0, v0, lr, wd, step, decay)
	adamWViaKernel(w1, g, m1, v1, lr, wd, step, decay)
	assertBits(t, name+" w", w1, w0)
	assertBits(t, name+" m", m1, m0)
	assertBits(t, name+" v", v1, v0)
}

// TestAdamWStepBitIdentical: on every implementation the machine runs,
// AdamWStep gives the reference loop's bits for w, m and v: lengths around
// the 8- and 16-lane groups, early and late steps, with and without weight
// decay, random values and special ones (zeros, ±Inf, NaNs with payloads,
// subnormals, huge values whose squares overflow).
func TestAdamWStepBitIdentical(t *testing.T) {
	forEachImpl(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(23))
		sp := specialFloats()
		for _, n := range []int{0, 1, 7, 8, 15, 16, 17, 24, 31, 32, 33, 1000, 4099} {
			for _, step := range []int{1, 2, 37, 5000} {
				for _, decay := range []bool{false, true} {
					w, g := randSlice(rng, n), randSlice(rng, n)
					m, v := randSlice(rng, n), randSlice(rng, n)
					for i := range v {
						m[i] *= 0.1
						v[i] = v[i] * v[i] * 0.01
					}
					name := fmt.Sprintf("n=%d step=%d decay=%v", n, step, decay)
					adamWCase(t, name, w, g, m, v, 1e-3, 0.05, step, decay)
					// Several specials in one element too: two NaNs meet.
					for i := 0; i < n; i += 2 {
						for _, s := range [][]float32{w, g, m, v} {
							if rng.Intn(3) == 0 {
								s[i] = sp[rng.Intn(len(sp))]
							}
						}
					}
					adamWCase(t, name+" specials", w, g, m, v, 3e-4, 0.1, step, decay)
				}
			}
		}
	})
}

// FuzzAdamWStep: any bits in w, g, m and v (two elements of each per 32
// bytes, so lengths cover the tails and the 8- and 16-lane groups), any
// learning rate and step: every implementation gives the reference's bits.
func FuzzAdamWStep(f *testing.F) {
	f.Add(make([]byte, 32*17), 1e-3, uint16(1), true)
	f.Add([]byte{0x7f, 0xc0, 0, 1, 0xff, 0x80, 0, 0, 0, 0, 0x80, 0x3f}, 0.5, uint16(9), false)
	f.Fuzz(func(t *testing.T, data []byte, lr float64, step uint16, decay bool) {
		n := len(data) / 16
		w, g, m, v := make([]float32, n), make([]float32, n), make([]float32, n), make([]float32, n)
		for i := 0; i < n; i++ {
			word := func(k int) float32 { return math.Float32frombits(binary.LittleEndian.Uint32(data[16*i+4*k:])) }
			w[i], g[i], m[i], v[i] = word(0), word(1), word(2), word(3)
		}
		for _, im := range impls() {
			withImpl(im, func() { adamWCase(t, im.name, w, g, m, v, lr, 0.05, int(step)+1, decay) })
		}
	})
}
