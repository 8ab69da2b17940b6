package analysis

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"

	"github.com/frankenvit/frankenvit/vit/kernels"
)

// Probe is a linear classifier, multinomial logistic regression, on
// standardised features: class = argmax W·((x - Mean) / Scale) + B.
type Probe struct {
	Dim, Classes int
	Mean, Scale  []float64 // learned from the training samples
	W            []float64 // [Classes, Dim]
	B            []float64 // [Classes]
}

// ProbeOptions control the probe's training: Adam on the mean cross-entropy
// plus L2/2·||W||², over shuffled mini-batches.
type ProbeOptions struct {
	Epochs int     `json:"epochs"`
	Batch  int     `json:"batch"`
	LR     float64 `json:"lr"`
	L2     float64 `json:"l2"`
}

// DefaultProbeOptions fit a few thousand standardised samples of width 64 in
// well under a second.
func DefaultProbeOptions() ProbeOptions {
	return ProbeOptions{Epochs: 30, Batch: 128, LR: 0.02, L2: 1e-4}
}

// TrainProbe fits a probe to the samples x [n, dim] with labels y in
// [0, classes). The data order is drawn from seed: same seed, same probe.
func TrainProbe(x []float32, y []int, dim, classes int, o ProbeOptions, seed uint64) (*Probe, error) {
	n := len(y)
	switch {
	case n == 0 || dim <= 0 || classes <= 0:
		return nil, fmt.Errorf("analysis: probe needs samples, a positive width and classes (got %d, %d, %d)", n, dim, classes)
	case len(x) != n*dim:
		return nil, fmt.Errorf("analysis: probe has %d features for %d samples of width %d", len(x), n, dim)
	case o.Epochs <= 0 || o.Batch <= 0 || o.LR <= 0 || o.L2 < 0:
		return nil, fmt.Errorf("analysis: bad probe options %+v", o)
	}
	for _, c := range y {
		if c < 0 || c >= classes {
			return nil, fmt.Errorf("analysis: probe label %d outside [0, %d)", c, classes)
		}
	}
	p := &Probe{Dim: dim, Classes: classes, Mean: make([]float64, dim), Scale: make([]float64, dim),
		W: make([]float64, classes*dim), B: make([]float64, classes)}
	p.standardise(x, n)
	z := make([]float64, n*dim)
	for i := 0; i < n; i++ {
		p.normalise(z[i*dim:(i+1)*dim], x[i*dim:(i+1)*dim])
	}

	// Adam over W and B together, as one parameter vector's two halves.
	params := [][]float64{p.W, p.B}
	grads := [][]float64{make([]float64, len(p.W)), make([]float64, len(p.B))}
	m1 := [][]float64{make([]float64, len(p.W)), make([]float64, len(p.B))}
	m2 := [][]float64{make([]float64, len(p.W)), make([]float64, len(p.B))}
	const beta1, beta2, eps = 0.9, 0.999, 1e-8
	rng := rand.New(rand.NewPCG(seed, 0x9b0e))
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	probs := make([]float64, classes)
	step := 0
	for epoch := 0; epoch < o.Epochs; epoch++ {
		rng.Shuffle(n, func(i, j int) { order[i], order[j] = order[j], order[i] })
		for start := 0; start < n; start += o.Batch {
			batch := order[start:min(start+o.Batch, n)]
			clear(grads[0])
			clear(grads[1])
			for _, i := range batch {
				zi := z[i*dim : (i+1)*dim]
				p.softmax(probs, zi)
				probs[y[i]]--
				for c := 0; c < classes; c++ {
					g := probs[c] / float64(len(batch))
					grads[1][c] += g
					row := grads[0][c*dim : (c+1)*dim]
					for j, v := range zi {
						row[j] += g * v
					}
				}
			}
			for j, w := range p.W {
				grads[0][j] += o.L2 * w
			}
			step++
			c1, c2 := 1-math.Pow(beta1, float64(step)), 1-math.Pow(beta2, float64(step))
			for k := range params {
				for j, g := range grads[k] {
					m1[k][j] = beta1*m1[k][j] + (1-beta1)*g
					m2[k][j] = beta2*m2[k][j] + (1-beta2)*g*g
					params[k][j] -= o.LR * (m1[k][j] / c1) / (math.Sqrt(m2[k][j]/c2) + eps)
				}
			}
		}
	}
	return p, nil
}

// standardise sets Mean and Scale from the samples; a constant feature gets
// scale 1 so it cannot divide by zero.
func (p *Probe) standardise(x []float32, n int) {
	d := p.Dim
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			p.Mean[j] += float64(x[i*d+j])
		}
	}
	for j := range p.Mean {
		p.Mean[j] /= float64(n)
	}
	for i := 0; i < n; i++ {
		for j := 0; j < d; j++ {
			v := float64(x[i*d+j]) - p.Mean[j]
			p.Scale[j] += v * v
		}
	}
	for j := range p.Scale {
		p.Scale[j] = math.Sqrt(p.Scale[j] / float64(n))
		if p.Scale[j] < 1e-12 {
			p.Scale[j] = 1
		}
	}
}

func (p *Probe) normalise(dst []float64, x []float32) {
	for j, v := range x {
		dst[j] = (float64(v) - p.Mean[j]) / p.Scale[j]
	}
}

// softmax writes the class probabilities of a standardised sample z.
func (p *Probe) softmax(probs, z []float64) {
	mx := math.Inf(-1)
	for c := range probs {
		v := p.B[c]
		for j, zj := range z {
			v += p.W[c*p.Dim+j] * zj
		}
		probs[c] = v
		mx = math.Max(mx, v)
	}
	var sum float64
	for c := range probs {
		probs[c] = math.Exp(probs[c] - mx)
		sum += probs[c]
	}
	for c := range probs {
		probs[c] /= sum
	}
}

// Predict returns the class of one sample x [Dim].
func (p *Probe) Predict(x []float32) int {
	z, probs := make([]float64, p.Dim), make([]float64, p.Classes)
	p.normalise(z, x)
	p.softmax(probs, z)
	best := 0
	for c, v := range probs {
		if v > probs[best] {
			best = c
		}
	}
	return best
}

// slotProbe trains one probe per block on the block's outputs over the
// random orders of the sweep, labelled with the slot it ran in. The images
// are split once, by seed: the probes see the outputs of the training images
// only and are scored on those of the held-out images. Each output is first
// layer-normalised (no affine), so a probe is exactly the function class of a
// shuffle-predict position head, fc(LN(x)), and cannot read the slot from
// the mere growth of the residual stream's scale along the depth.
func slotProbe(sw *sweep, o ProbeOptions, holdout float64, seed uint64, progress func(done, total int)) (*SlotPrediction, error) {
	L := sw.depth
	perm := rand.New(rand.NewPCG(seed, 0x5107)).Perm(sw.n)
	nTest := int(math.Ceil(holdout * float64(sw.n)))
	if nTest < 1 || nTest >= sw.n {
		return nil, fmt.Errorf("analysis: the probe needs images on both sides of its split: %d images, holdout %g", sw.n, holdout)
	}
	test, train := perm[:nTest], perm[nTest:]
	// The blocks' probes are independent (each has its own seed), so they
	// train side by side; results and the first error go by block.
	conf := make([][][]int, L)
	errs := make([]error, L)
	var mu sync.Mutex
	done := 0
	kernels.Parallel(L, 1, func(lo, hi int) {
		for b := lo; b < hi; b++ {
			conf[b], errs[b] = blockProbe(sw, b, train, test, o, seed)
			if progress != nil {
				mu.Lock()
				done++
				progress(done, L)
				mu.Unlock()
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return slotPrediction("linear probe", conf, L, L), nil
}

// blockProbe trains block b's probe on the outputs of the train images and
// returns its confusion matrix (true slot x predicted slot) over the test
// images; nil when the block ran in no order (fewer orders than blocks).
func blockProbe(sw *sweep, b int, train, test []int, o ProbeOptions, seed uint64) ([][]int, error) {
	L, D := sw.depth, sw.dim
	var x []float32
	var y []int
	for k, plan := range sw.plans[:sw.random] {
		for s, blk := range plan {
			if blk != b {
				continue
			}
			for _, i := range train {
				x = append(x, layerNormed(sw.feats[k][s][i*D:(i+1)*D])...)
				y = append(y, s)
			}
		}
	}
	if len(y) == 0 {
		return nil, nil
	}
	p, err := TrainProbe(x, y, D, L, o, seed+uint64(b))
	if err != nil {
		return nil, err
	}
	conf := intMatrix(L, L)
	for k, plan := range sw.plans[:sw.random] {
		for s, blk := range plan {
			if blk != b {
				continue
			}
			for _, i := range test {
				conf[s][p.Predict(layerNormed(sw.feats[k][s][i*D:(i+1)*D]))]++
			}
		}
	}
	return conf, nil
}

// layerNormed returns (x - mean(x)) / std(x) of one vector, as LayerNorm
// without its affine part (eps as the model's).
func layerNormed(x []float32) []float32 {
	var m, v float64
	for _, e := range x {
		m += float64(e)
	}
	m /= float64(len(x))
	for _, e := range x {
		v += (float64(e) - m) * (float64(e) - m)
	}
	rstd := 1 / math.Sqrt(v/float64(len(x))+1e-6)
	out := make([]float32, len(x))
	for i, e := range x {
		out[i] = float32((float64(e) - m) * rstd)
	}
	return out
}
