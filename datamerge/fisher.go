package datamerge

import (
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/frankenvit/frankenvit/vit"
	"github.com/frankenvit/frankenvit/vit/kernels"
)

// DefaultEpsilon is added to every Fisher value so that elements no source
// is sensitive to fall back to the (weighted) plain average.
const DefaultEpsilon = 1e-8

// FisherOptions configure Fisher merging.
type FisherOptions struct {
	// Images is how many images of each source's data are read, the first
	// ones (0: DefaultImages).
	Images int
	// Epsilon is added to every Fisher value (0: DefaultEpsilon).
	Epsilon float64
	// Weights scale each source's Fisher (nil: all 1), as the paper's
	// per-model merging coefficients.
	Weights []float64
}

// FisherDiag is a diagonal Fisher: one slice per parameter, in the order of
// vit.Model.Params, one value per element.
type FisherDiag [][]float64

// Fisher merges the sources by Fisher merging (Matena & Raffel 2022): every
// parameter element is the average of the sources' values weighted by each
// source's diagonal empirical Fisher (EmpiricalFisher on opt.Images images
// of its own data) times its weight.
func Fisher(name string, sources []Source, opt FisherOptions) (*vit.Model, error) {
	if opt.Images == 0 {
		opt.Images = DefaultImages
	}
	if opt.Epsilon == 0 {
		opt.Epsilon = DefaultEpsilon
	}
	if err := statSources("fisher", sources, opt.Images, true); err != nil {
		return nil, err
	}
	if opt.Weights != nil && len(opt.Weights) != len(sources) {
		return nil, fmt.Errorf("fisher: %d weights for %d sources", len(opt.Weights), len(sources))
	}
	models := make([]*vit.Model, len(sources))
	fishers := make([]FisherDiag, len(sources))
	for i, s := range sources {
		f, err := EmpiricalFisher(s, opt.Images)
		if err != nil {
			return nil, err
		}
		models[i], fishers[i] = s.Model, f
	}
	return MergeFisher(name, models, fishers, opt.Weights, opt.Epsilon)
}

// MergeFisher is the weighting step of Fisher merging: per element,
// sum_i w_i (F_i+eps) theta_i / sum_i w_i (F_i+eps). weights nil: all 1.
// With equal Fishers it is the weighted plain average.
func MergeFisher(name string, models []*vit.Model, fishers []FisherDiag, weights []float64, eps float64) (*vit.Model, error) {
	if len(models) == 0 {
		return nil, errors.New("fisher: no models to merge")
	}
	if len(fishers) != len(models) || (weights != nil && len(weights) != len(models)) {
		return nil, fmt.Errorf("fisher: %d models, %d Fishers and %d weights", len(models), len(fishers), len(weights))
	}
	if eps < 0 || math.IsNaN(eps) || math.IsInf(eps, 0) {
		return nil, fmt.Errorf("fisher: epsilon %g must be finite and non-negative", eps)
	}
	for i, w := range weights {
		if w < 0 || math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("fisher: weight %g of model %s must be finite and non-negative", w, models[i].Name)
		}
	}
	for i, m := range models {
		if m == nil {
			return nil, fmt.Errorf("fisher: model %d is missing", i)
		}
		if err := vit.SameShapes(models[0], m); err != nil {
			return nil, fmt.Errorf("fisher: %w", err)
		}
		if err := fishers[i].check(m); err != nil {
			return nil, fmt.Errorf("fisher: model %s: %w", m.Name, err)
		}
	}
	out, err := vit.NewModel(name, models[0].Config)
	if err != nil {
		return nil, fmt.Errorf("fisher: %w", err)
	}
	dst := out.Params()
	params := make([][]*vit.Param, len(models))
	for i, m := range models {
		params[i] = m.Params()
	}
	for k, p := range dst {
		d := p.Data()
		for j := range d {
			var num, den float64
			for i := range models {
				w := 1.0
				if weights != nil {
					w = weights[i]
				}
				f := w * (fishers[i][k][j] + eps)
				num += f * float64(params[i][k].Data()[j])
				den += f
			}
			if den == 0 || math.IsNaN(num/den) || math.IsInf(num/den, 0) {
				return nil, fmt.Errorf("fisher: %s element %d has no usable weight (zero weights and epsilon, or a non-finite Fisher)", p.Name, j)
			}
			d[j] = float32(num / den)
		}
	}
	return out, nil
}

func (f FisherDiag) check(m *vit.Model) error {
	ps := m.Params()
	if len(f) != len(ps) {
		return fmt.Errorf("the Fisher has %d tensors, the model %d", len(f), len(ps))
	}
	for k, p := range ps {
		if len(f[k]) != p.Size() {
			return fmt.Errorf("the Fisher of %s has %d elements, the tensor %d", p.Name, len(f[k]), p.Size())
		}
	}
	return nil
}

// EmpiricalFisher is s.Model's diagonal empirical Fisher on the first n
// images of s.Data: the mean over images of the squared gradient of
// log p(label | image), each image differentiated alone (the Fisher is a
// mean of squares, not the square of a batch gradient) in the model's
// sequential plan. Only the classification loss counts: slot heads get zero.
func EmpiricalFisher(s Source, n int) (FisherDiag, error) {
	if err := statSources("fisher", []Source{s}, n, true); err != nil {
		return nil, err
	}
	m := s.Model
	sums := make([]FisherDiag, statWorkers)
	errs := make([]error, statWorkers)
	var wg sync.WaitGroup
	for w := 0; w < statWorkers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A shadow shares m's weights but has its own gradients, so
			// m's Grad is never touched and the workers do not mix.
			sh := m.GradShadow()
			plan := []vit.Plan{sh.Sequential()}
			ar := &vit.Arena{Workers: kernels.Share(statWorkers)}
			ps := sh.Params()
			acc := newFisherDiag(ps)
			for j := w; j < n; j += statWorkers {
				x, lab, err := statImages(s, j, j+1, true)
				var st *vit.Step
				if err == nil {
					st, err = sh.ForwardShard(x, lab, 1, 1, plan, 0, ar)
				}
				if err == nil {
					err = st.Backward()
				}
				if err == nil && (math.IsNaN(float64(st.ClassLoss())) || math.IsInf(float64(st.ClassLoss()), 0)) {
					err = fmt.Errorf("the loss of image %d is not finite", j)
				}
				if err != nil {
					errs[w] = err
					return
				}
				for k, p := range ps {
					a := acc[k]
					for e, g := range p.Grad {
						a[e] += float64(g) * float64(g)
					}
					p.ZeroGrad()
				}
			}
			sums[w] = acc
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("fisher: model %s: %w", m.Name, err)
	}
	out := sums[0]
	for _, acc := range sums[1:] { // a fixed order: the result does not depend on timing
		for k := range out {
			for e, v := range acc[k] {
				out[k][e] += v
			}
		}
	}
	for _, a := range out {
		for e := range a {
			a[e] /= float64(n)
		}
	}
	return out, nil
}

func newFisherDiag(ps []*vit.Param) FisherDiag {
	f := make(FisherDiag, len(ps))
	for k, p := range ps {
		f[k] = make([]float64, p.Size())
	}
	return f
}

// ---- shared by Fisher and RegMean ----

// statSources checks what a statistics pass over the first n images of
// each source needs, so that bad input is one clear error, not a panic.
func statSources(method string, sources []Source, n int, labels bool) error {
	if len(sources) == 0 {
		return fmt.Errorf("%s: no sources to merge", method)
	}
	if n <= 0 {
		return fmt.Errorf("%s: %d images asked, need at least 1", method, n)
	}
	for i, s := range sources {
		if s.Model == nil {
			return fmt.Errorf("%s: source %d has no model", method, i)
		}
	}
	for _, s := range sources {
		if err := vit.SameShapes(sources[0].Model, s.Model); err != nil {
			return fmt.Errorf("%s: %w", method, err)
		}
		c, d, name := s.Model.Config, s.Data, s.Model.Name
		if d == nil {
			return fmt.Errorf("%s: model %s has no data", method, name)
		}
		if d.C != c.Channels || d.H != c.ImageHeight || d.W != c.ImageWidth {
			return fmt.Errorf("%s: model %s takes %dx%dx%d images, its data has %dx%dx%d", method, name,
				c.Channels, c.ImageHeight, c.ImageWidth, d.C, d.H, d.W)
		}
		if d.N < n || (!d.Lazy() && len(d.Pixels) < n*d.ImageSize()) {
			return fmt.Errorf("%s: model %s's data has %d images, %d asked", method, name, d.N, n)
		}
		if err := s.Norm.Check(d.C); err != nil {
			return fmt.Errorf("%s: model %s: %w", method, name, err)
		}
		if labels {
			if len(d.Labels) < n {
				return fmt.Errorf("%s: model %s's data has no labels for its first %d images", method, name, n)
			}
			for j, l := range d.Labels[:n] {
				if int(l) >= c.Classes {
					return fmt.Errorf("%s: model %s has %d classes, image %d of its data is labelled %d", method, name, c.Classes, j, l)
				}
			}
		}
	}
	return nil
}

// statImages normalises images lo..hi-1 of s.Data (and their labels).
func statImages(s Source, lo, hi int, labels bool) ([]float32, []int32, error) {
	idx := make([]int, hi-lo)
	for i := range idx {
		idx[i] = lo + i
	}
	x := make([]float32, len(idx)*s.Data.ImageSize())
	var lab []int32
	if labels {
		lab = make([]int32, len(idx))
	}
	return x, lab, s.Data.Fill(x, lab, idx, s.Norm, nil, nil)
}

// averageModel is the plain average of the sources' parameters.
func averageModel(name string, sources []Source) (*vit.Model, error) {
	out, err := vit.NewModel(name, sources[0].Model.Config)
	if err != nil {
		return nil, err
	}
	params := make([][]*vit.Param, len(sources))
	for i, s := range sources {
		params[i] = s.Model.Params()
	}
	for k, p := range out.Params() {
		d := p.Data()
		for j := range d {
			var sum float64
			for i := range sources {
				sum += float64(params[i][k].Data()[j])
			}
			d[j] = float32(sum / float64(len(sources)))
		}
	}
	return out, nil
}
