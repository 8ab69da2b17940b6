package trainer

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
	"github.com/frankenvit/frankenvit/vit/kernels"
)

// The update pass (clip scale, AdamW and zeroing in parallel spans) gives
// the bits of the serial sequence it replaced: ClipGradNorm's scale on the
// trainable tensors, one AdamWStep per tensor, then every gradient zeroed.
func TestParallelUpdateMatchesSerialSteps(t *testing.T) {
	shapes := [][]int{{350, 200}, {5}, {0, 4}, {200, 200}, {33}, {3, 70000}}
	names := []string{"a.weight", "a.bias", "empty.weight", "b.weight", "frozen.bias", "c.weight"}
	build := func() []*vit.Param {
		rng := rand.New(rand.NewPCG(7, 8))
		ps := make([]*vit.Param, len(shapes))
		for i, sh := range shapes {
			n := 1
			for _, d := range sh {
				n *= d
			}
			p := &vit.Param{Name: names[i], Shape: sh, Value: make([]float32, n), Grad: make([]float32, n)}
			for j := range p.Value {
				p.Value[j] = float32(rng.NormFloat64())
			}
			ps[i] = p
		}
		return ps
	}
	fillGrads := func(ps []*vit.Param, step int, big bool) {
		rng := rand.New(rand.NewPCG(uint64(step), 9))
		for _, p := range ps {
			for j := range p.Grad {
				p.Grad[j] = float32(rng.NormFloat64())
				if !big {
					p.Grad[j] *= 1e-4
				}
			}
		}
	}
	for _, procs := range []int{1, 2, 3} {
		t.Run(fmt.Sprintf("procs=%d", procs), func(t *testing.T) {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			got, want := build(), build()
			og, ow := NewAdamW(got, 0.05), NewAdamW(want, 0.05)
			og.frozen[4], ow.frozen[4] = true, true
			for step := 1; step <= 4; step++ {
				big := step%2 == 1 // odd steps clip, even ones do not
				fillGrads(got, step, big)
				fillGrads(want, step, big)
				var trainable []*vit.Param
				for i, p := range got {
					if !og.frozen[i] {
						trainable = append(trainable, p)
					}
				}
				scale := clipScale(GradNorm(trainable), 1)
				if (scale != 1) != big {
					t.Fatalf("step %d: clip scale %v, want clipping %v", step, scale, big)
				}
				og.step(1e-3, scale, true)

				// The serial reference, written out.
				var sq float64
				for i, p := range want {
					if !ow.frozen[i] {
						for _, g := range p.Grad {
							sq += float64(g) * float64(g)
						}
					}
				}
				if norm := math.Sqrt(sq); norm > 1 {
					s := float32(1 / (norm + 1e-6))
					for i, p := range want {
						if !ow.frozen[i] {
							for j := range p.Grad {
								p.Grad[j] *= s
							}
						}
					}
				}
				ow.t++
				c1, c2 := 1-math.Pow(ow.Beta1, float64(ow.t)), 1-math.Pow(ow.Beta2, float64(ow.t))
				for i, p := range want {
					if ow.frozen[i] {
						continue
					}
					shrink := float32(1)
					if ow.decay[i] {
						shrink = float32(1 - 1e-3*ow.WeightDecay)
					}
					kernels.AdamWStep(p.Value, p.Grad, ow.m[i], ow.v[i], float32(ow.Beta1), float32(ow.Beta2),
						float32(1e-3/c1), float32(1/c2), float32(ow.Eps), shrink)
				}
				for _, p := range want {
					clear(p.Grad)
				}

				for i := range got {
					for _, pair := range [][2][]float32{{got[i].Value, want[i].Value}, {got[i].Grad, want[i].Grad},
						{og.m[i], ow.m[i]}, {og.v[i], ow.v[i]}} {
						for j := range pair[0] {
							if math.Float32bits(pair[0][j]) != math.Float32bits(pair[1][j]) {
								t.Fatalf("step %d, %s element %d: %v, serial %v", step, got[i].Name, j, pair[0][j], pair[1][j])
							}
						}
					}
				}
			}
		})
	}
}
