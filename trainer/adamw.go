package trainer

import (
	"fmt"
	"math"
	"strings"

	"github.com/frankenvit/frankenvit/vit"
	"github.com/frankenvit/frankenvit/vit/kernels"
)

// AdamW is Adam with decoupled weight decay, as torch.optim.AdamW defines it:
// p -= lr*wd*p, then p -= lr * m̂ / (sqrt(v̂) + eps).
type AdamW struct {
	Beta1, Beta2, Eps, WeightDecay float64
	params                         []*vit.Param
	decay                          []bool
	frozen                         []bool // not updated at all (Stepper.TrainOnly)
	m, v                           [][]float32
	t                              int
}

// NewAdamW prepares moments for params. Weight decay applies to weight
// matrices only, not to biases, norms or embeddings (timm's convention).
func NewAdamW(params []*vit.Param, weightDecay float64) *AdamW {
	o := &AdamW{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: weightDecay, params: params}
	for _, p := range params {
		o.m = append(o.m, make([]float32, p.Size()))
		o.v = append(o.v, make([]float32, p.Size()))
		o.decay = append(o.decay, decays(p))
		o.frozen = append(o.frozen, false)
	}
	return o
}

func decays(p *vit.Param) bool {
	return len(p.Shape) >= 2 && strings.HasSuffix(p.Name, ".weight")
}

// restore sets the step count and moments saved by a State.
func (o *AdamW) restore(steps int, m, v [][]float32) error {
	if len(m) != len(o.m) || len(v) != len(o.v) {
		return fmt.Errorf("resume state has moments for %d tensors, the model has %d", len(m), len(o.m))
	}
	for i := range o.m {
		if len(m[i]) != len(o.m[i]) || len(v[i]) != len(o.v[i]) {
			return fmt.Errorf("resume state: moments of %s have the wrong size", o.params[i].Name)
		}
		copy(o.m[i], m[i])
		copy(o.v[i], v[i])
	}
	o.t = steps
	return nil
}

// Steps is the number of updates taken so far.
func (o *AdamW) Steps() int { return o.t }

// Step applies one update with learning rate lr from the parameters' gradients.
func (o *AdamW) Step(lr float64) { o.step(lr, 1, false) }

// step is Step with every trainable gradient first multiplied by gradScale
// (a float32 product, as ClipGradNorm's), and then, with clearGrads, every
// gradient zeroed (frozen ones too). The tensors are updated in parallel
// spans: each element's arithmetic is its own, so the bits are those of one
// goroutine updating tensor by tensor.
func (o *AdamW) step(lr float64, gradScale float32, clearGrads bool) {
	o.t++
	b1, b2 := o.Beta1, o.Beta2
	c1 := 1 - math.Pow(b1, float64(o.t))
	c2 := 1 - math.Pow(b2, float64(o.t))
	stepSize := float32(lr / c1)
	invC2 := float32(1 / c2)
	eps := float32(o.Eps)
	fb1, fb2 := float32(b1), float32(b2)
	shrinks := make([]float32, len(o.params))
	for i := range o.params {
		// Multiplying by a shrink of 1 leaves every weight's bits as they are.
		shrinks[i] = 1
		if o.decay[i] && o.WeightDecay != 0 {
			shrinks[i] = float32(1 - lr*o.WeightDecay)
		}
	}
	vit.ParallelSpans(kernels.AllCores, vit.GradSizes(o.params), func(i, lo, hi int) {
		g := o.params[i].Grad[lo:hi]
		if !o.frozen[i] {
			if gradScale != 1 {
				scaleGrads(g, gradScale)
			}
			kernels.AdamWStep(o.params[i].Data()[lo:hi], g, o.m[i][lo:hi], o.v[i][lo:hi], fb1, fb2, stepSize, invC2, eps, shrinks[i])
		}
		if clearGrads {
			clear(g)
		}
	})
}

// ClipGradNorm scales all gradients so their global L2 norm is at most
// maxNorm (no-op if maxNorm <= 0) and returns the norm before clipping.
func ClipGradNorm(params []*vit.Param, maxNorm float64) float64 {
	norm := GradNorm(params)
	if s := clipScale(norm, maxNorm); s != 1 {
		vit.ParallelSpans(kernels.AllCores, vit.GradSizes(params), func(i, lo, hi int) {
			scaleGrads(params[i].Grad[lo:hi], s)
		})
	}
	return norm
}

// GradNorm is the global L2 norm of params' gradients. Its float64 sum runs
// element by element in one fixed order, a chain no goroutine can split
// without changing its bits.
func GradNorm(params []*vit.Param) float64 {
	var sq float64
	for _, p := range params {
		for _, g := range p.Grad {
			sq += float64(g) * float64(g)
		}
	}
	return math.Sqrt(sq)
}

// clipScale is the factor ClipGradNorm multiplies the gradients by to bring
// a norm down to maxNorm: 1 (no change) when maxNorm <= 0 or the norm is
// already at most maxNorm.
func clipScale(norm, maxNorm float64) float32 {
	if maxNorm > 0 && norm > maxNorm {
		return float32(maxNorm / (norm + 1e-6))
	}
	return 1
}

func scaleGrads(g []float32, s float32) {
	for j := range g {
		g[j] *= s
	}
}
