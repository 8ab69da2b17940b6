package methods

// The geometric merge methods: slerp, nuslerp, multislerp, karcher,
// model_stock and nearswap, each written from mergekit's definition
// (github.com/arcee-ai/mergekit, mergekit/merge_methods/<name>.py; the file
// of each is named at its method). Everything is computed in float64 and
// rounded to float32 once at the end.
//
// Conventions shared with the rest of the package: Tensor.Base is the base
// model's tensor and Tensor.Data holds the other models' tensors (mergekit
// gathers the base among the tensors and then separates it, as these
// methods do).

import (
	"fmt"
	"math"
)

// geoUnbounded is the range limit of parameters mergekit does not bound.
const geoUnbounded = math.MaxFloat64

func init() {
	Register(slerpMethod{})
	Register(nuslerpMethod{})
	Register(multislerpMethod{})
	Register(karcherMethod{})
	Register(modelStockMethod{})
	Register(nearswapMethod{})
}

// geo64 converts a tensor to float64.
func geo64(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// geo32 rounds a float64 tensor to float32.
func geo32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

func geoDot(a, b []float64) float64 {
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

func geoNorm(a []float64) float64 { return math.Sqrt(geoDot(a, a)) }

func geoClamp(x, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, x)) }

func geoBool(v float64) bool { return v != 0 }

// geoVectors describes how a tensor of shape shape is cut into vectors along
// axis (0 or the last): outer*inner vectors of length n, element k of vector
// (o, i) at o*n*inner + k*inner + i. A tensor without a shape (or a scalar)
// is one vector.
func geoVectors(shape []int, size int, axis int) (outer, n, inner int) {
	if len(shape) == 0 {
		return 1, size, 1
	}
	if axis < 0 {
		axis = len(shape) - 1
	}
	outer, inner = 1, 1
	for d := 0; d < axis; d++ {
		outer *= shape[d]
	}
	for d := axis + 1; d < len(shape); d++ {
		inner *= shape[d]
	}
	return outer, shape[axis], inner
}

// geoGather copies vector (o, i) of x into buf.
func geoGather(x []float64, buf []float64, o, n, inner, i int) {
	base := o*n*inner + i
	for k := 0; k < n; k++ {
		buf[k] = x[base+k*inner]
	}
}

// geoScatter writes buf into vector (o, i) of x.
func geoScatter(x []float64, buf []float64, o, n, inner, i int) {
	base := o*n*inner + i
	for k := 0; k < n; k++ {
		x[base+k*inner] = buf[k]
	}
}

// ---------------------------------------------------------------- slerp

// slerpMethod is mergekit's "slerp" (mergekit/merge_methods/slerp.py):
// spherical interpolation between the base model (t = 0) and the one other
// model (t = 1), over the whole tensor flattened. Both are normalised (only
// when their norm exceeds eps = 1e-8); when |cos| of the angle between them
// exceeds DOT_THRESHOLD = 0.9995 the vectors are taken as collinear and
// interpolated linearly; otherwise
// sin((1-t)θ)/sin θ · base + sin(tθ)/sin θ · other, on the unnormalised tensors.
type slerpMethod struct{}

const (
	slerpDotThreshold = 0.9995
	slerpEps          = 1e-8
)

func (slerpMethod) Spec() Spec {
	return Spec{
		Name:      "slerp",
		NeedsBase: true,
		MinModels: 1,
		MaxModels: 1,
		Params: []ParamSpec{
			{Name: "t", Required: true, Min: 0, Max: 1,
				Doc: "interpolation factor: 0 gives the base model, 1 the other model"},
		},
		Doc: "spherical linear interpolation between the base model and exactly one other model (mergekit's two models, the base being one of them)",
	}
}

func (m slerpMethod) Merge(t Tensor) ([]float32, error) {
	if t.Base == nil || len(t.Data) != 1 {
		return nil, fmt.Errorf("slerp %s: needs the base model and exactly one other model, got %d other(s)", t.Name, len(t.Data))
	}
	tt := t.Value(m.Spec(), -1, "t")
	return geo32(geoSlerp(tt, geo64(t.Base), geo64(t.Data[0]))), nil
}

// geoSlerp is mergekit's slerp() function on two flattened tensors.
func geoSlerp(t float64, v0, v1 []float64) []float64 {
	n0, n1 := geoNorm(v0), geoNorm(v1)
	if n0 <= slerpEps {
		n0 = 1 // mergekit leaves a vector whose norm is at most eps as it is
	}
	if n1 <= slerpEps {
		n1 = 1
	}
	dot := geoDot(v0, v1) / (n0 * n1)
	out := make([]float64, len(v0))
	if math.Abs(dot) > slerpDotThreshold {
		for i := range out {
			out[i] = (1-t)*v0[i] + t*v1[i]
		}
		return out
	}
	theta0 := math.Acos(dot)
	sin0 := math.Sin(theta0)
	thetaT := theta0 * t
	s0 := math.Sin(theta0-thetaT) / sin0
	s1 := math.Sin(thetaT) / sin0
	for i := range out {
		out[i] = s0*v0[i] + s1*v1[i]
	}
	return out
}

// ---------------------------------------------------------------- nuslerp

// nuslerpMethod is mergekit's "nuslerp" (mergekit/merge_methods/nuslerp.py):
// slerp of exactly two models with t = weight₂/(weight₁+weight₂) (0.5 when
// |weight₁+weight₂| < 1e-6). With a base model it interpolates the task
// vectors (model − base) and adds the base back. nuslerp_flatten (default
// true) treats the whole tensor as one vector; otherwise the tensor is cut
// into vectors along its last dimension, or, with nuslerp_row_wise, along its
// first dimension (mergekit transposes dimension 0 to the end: for a [out,in]
// weight that interpolates each column). Each vector is normalised with its
// norm clamped to at least 1e-7; where |sin θ| < 1e-8 (collinear) it is
// interpolated linearly.
type nuslerpMethod struct{}

func (nuslerpMethod) Spec() Spec {
	return Spec{
		Name:      "nuslerp",
		MinModels: 2,
		MaxModels: 2,
		Params: []ParamSpec{
			{Name: "weight", PerModel: true, Required: true, Min: -geoUnbounded, Max: geoUnbounded,
				Doc: "relative weight of the model; t = weight of the second / sum of weights"},
			{Name: "nuslerp_flatten", Bool: true, Default: 1, Min: 0, Max: 1,
				Doc: "treat the whole tensor as one vector"},
			{Name: "nuslerp_row_wise", Bool: true, Default: 0, Min: 0, Max: 1,
				Doc: "when not flattened, interpolate vectors along the first dimension instead of the last"},
		},
		Doc: "spherical interpolation of exactly two models by their weights; with a base model, of their task vectors",
	}
}

func (m nuslerpMethod) Merge(t Tensor) ([]float32, error) {
	s := m.Spec()
	if len(t.Data) != 2 {
		return nil, fmt.Errorf("nuslerp %s: needs exactly two models (plus an optional base), got %d", t.Name, len(t.Data))
	}
	w0, w1 := t.Value(s, 0, "weight"), t.Value(s, 1, "weight")
	tt := 0.5
	if math.Abs(w0+w1) >= 1e-6 {
		tt = w1 / (w0 + w1)
	}
	v0, v1 := geo64(t.Data[0]), geo64(t.Data[1])
	var base []float64
	if t.Base != nil {
		base = geo64(t.Base)
		for i := range v0 {
			v0[i] -= base[i]
			v1[i] -= base[i]
		}
	}
	flatten := geoBool(t.Value(s, -1, "nuslerp_flatten"))
	rowWise := geoBool(t.Value(s, -1, "nuslerp_row_wise"))
	var outer, n, inner int
	switch {
	case flatten:
		outer, n, inner = 1, len(v0), 1
	case rowWise:
		outer, n, inner = geoVectors(t.Shape, len(v0), 0)
	default:
		outer, n, inner = geoVectors(t.Shape, len(v0), -1)
	}
	if outer*n*inner != len(v0) {
		return nil, fmt.Errorf("nuslerp %s: shape %v does not hold %d values", t.Name, t.Shape, len(v0))
	}
	out := make([]float64, len(v0))
	a, b, r := make([]float64, n), make([]float64, n), make([]float64, n)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			geoGather(v0, a, o, n, inner, i)
			geoGather(v1, b, o, n, inner, i)
			geoNuslerpVector(tt, a, b, r)
			geoScatter(out, r, o, n, inner, i)
		}
	}
	if base != nil {
		for i := range out {
			out[i] += base[i]
		}
	}
	return geo32(out), nil
}

// geoNuslerpVector is mergekit's nuslerp() on one pair of vectors.
func geoNuslerpVector(t float64, v0, v1, out []float64) {
	n0 := math.Max(geoNorm(v0), 1e-7)
	n1 := math.Max(geoNorm(v1), 1e-7)
	cos := geoClamp(geoDot(v0, v1)/(n0*n1), -1, 1)
	theta := math.Acos(cos)
	sin := math.Sin(theta)
	if math.Abs(sin) < 1e-8 {
		for k := range out {
			out[k] = (1-t)*v0[k] + t*v1[k]
		}
		return
	}
	s0, s1 := math.Sin((1-t)*theta), math.Sin(t*theta)
	for k := range out {
		out[k] = (s0*v0[k] + s1*v1[k]) / sin
	}
}

// ---------------------------------------------------------------- multislerp

// multislerpMethod is mergekit's "multislerp"
// (mergekit/merge_methods/multislerp.py): barycentric interpolation on the
// hypersphere of any number of models (of their task vectors when a base is
// given), each tensor flattened. The models are projected to the unit sphere
// (x/(‖x‖+eps)), the weighted mean of the unit vectors is normalised, the unit
// vectors are projected onto its tangent space, their weighted sum is mapped
// back with the exponential map (its norm taken + eps) and scaled by the
// weighted mean of the norms. normalize_weights divides the weights by their
// sum. When the weighted mean is shorter than eps, two models fall back to
// their weighted sum and more are an error. A single model is returned as it
// is.
type multislerpMethod struct{}

func (multislerpMethod) Spec() Spec {
	return Spec{
		Name:      "multislerp",
		MinModels: 1,
		Params: []ParamSpec{
			{Name: "weight", PerModel: true, Required: true, Min: -geoUnbounded, Max: geoUnbounded,
				Doc: "the model's weight in the barycentre"},
			{Name: "normalize_weights", Bool: true, Default: 1, Min: 0, Max: 1,
				Doc: "divide the weights by their sum"},
			{Name: "eps", Default: 1e-8, Min: 0, Max: geoUnbounded,
				Doc: "small constant for numerical stability"},
		},
		Doc: "spherical barycentric interpolation of any number of models; with a base model, of their task vectors",
	}
}

func (m multislerpMethod) Merge(t Tensor) ([]float32, error) {
	s := m.Spec()
	k := len(t.Data)
	if k == 0 {
		return nil, fmt.Errorf("multislerp %s: no models", t.Name)
	}
	if k == 1 {
		// mergekit returns the single model's tensor before any base is subtracted.
		return append([]float32(nil), t.Data[0]...), nil
	}
	eps := t.Value(s, -1, "eps")
	w := make([]float64, k)
	sum := 0.0
	for i := range w {
		w[i] = t.Value(s, i, "weight")
		sum += w[i]
	}
	if geoBool(t.Value(s, -1, "normalize_weights")) {
		if sum == 0 {
			return nil, fmt.Errorf("multislerp %s: the weights sum to 0 and normalize_weights divides by their sum", t.Name)
		}
		for i := range w {
			w[i] /= sum
		}
	}
	var base []float64
	if t.Base != nil {
		base = geo64(t.Base)
	}
	size := len(t.Data[0])
	x := make([][]float64, k)
	norms := make([]float64, k)
	for i := range x {
		x[i] = geo64(t.Data[i])
		if base != nil {
			for j := range x[i] {
				x[i][j] -= base[j]
			}
		}
		norms[i] = geoNorm(x[i])
	}
	// unit vectors, in place of x is not possible (the fallback needs x), so a copy
	unit := make([][]float64, k)
	mean := make([]float64, size)
	for i := range x {
		unit[i] = make([]float64, size)
		d := norms[i] + eps
		for j, v := range x[i] {
			u := v / d
			unit[i][j] = u
			mean[j] += w[i] * u
		}
	}
	out := make([]float64, size)
	meanNorm := geoNorm(mean)
	if meanNorm < eps {
		if k != 2 {
			return nil, fmt.Errorf("multislerp %s: the weighted sum of the unit tensors is zero (antipodal tensors whose weights balance out); try other weights", t.Name)
		}
		for j := range out {
			out[j] = x[0][j]*w[0] + x[1][j]*w[1]
			if base != nil {
				out[j] += base[j]
			}
		}
		return geo32(out), nil
	}
	for j := range mean {
		mean[j] /= meanNorm
	}
	tangent := make([]float64, size)
	for i := range unit {
		d := geoDot(unit[i], mean)
		for j := range tangent {
			tangent[j] += w[i] * (unit[i][j] - d*mean[j])
		}
	}
	tn := geoNorm(tangent) + eps
	c, sn := math.Cos(tn), math.Sin(tn)/tn
	avgNorm := 0.0
	for i := range norms {
		avgNorm += norms[i] * w[i]
	}
	for j := range out {
		out[j] = (mean[j]*c + tangent[j]*sn) * avgNorm
		if base != nil {
			out[j] += base[j]
		}
	}
	return geo32(out), nil
}

// ---------------------------------------------------------------- karcher

// karcherMethod is mergekit's "karcher" (mergekit/merge_methods/karcher.py):
// the Riemannian (Karcher) mean on the unit sphere of the models' flattened
// tensors with equal weights, scaled by the mean of their norms. mergekit
// gathers the base model's tensor with the others and karcher does not set it
// apart, so a base model, when given, is one more tensor of the mean (first).
// Tensors whose norm is at most tol are left out of the direction (a zero
// tensor still counts, as 0, in the mean norm). Start: the normalised mean of
// the unit vectors (the first unit vector if that is shorter than tol). Each of
// at most max_iter steps sums α·θ/sin θ·(uᵢ − cos θ·u) over the vectors at an
// angle θ ≥ tol from u, stops when that tangent is shorter than tol, and
// otherwise moves u along the geodesic by its length (renormalised).
type karcherMethod struct{}

func (karcherMethod) Spec() Spec {
	return Spec{
		Name:      "karcher",
		MinModels: 1,
		Params: []ParamSpec{
			{Name: "max_iter", Default: 10, Min: 0, Max: 1e6,
				Doc: "most iterations (an integer)"},
			{Name: "tol", Default: 1e-5, Min: 0, Max: geoUnbounded,
				Doc: "convergence tolerance"},
		},
		Doc: "Karcher (Riemannian) mean of the models on the hypersphere, scaled by their mean norm",
	}
}

func (m karcherMethod) Merge(t Tensor) ([]float32, error) {
	s := m.Spec()
	var tensors [][]float32
	if t.Base != nil {
		tensors = append(tensors, t.Base)
	}
	tensors = append(tensors, t.Data...)
	if len(tensors) == 0 {
		return nil, fmt.Errorf("karcher %s: no models", t.Name)
	}
	if len(tensors) == 1 {
		return append([]float32(nil), tensors[0]...), nil
	}
	maxIter := int(t.Value(s, -1, "max_iter"))
	tol := t.Value(s, -1, "tol")
	return geo32(geoKarcher(tensors, maxIter, tol)), nil
}

// geoKarcher is mergekit's karcher_merge_tensors with equal weights.
func geoKarcher(tensors [][]float32, maxIter int, tol float64) []float64 {
	k := len(tensors)
	size := len(tensors[0])
	alpha := 1 / float64(k)
	norms := make([]float64, k)
	var units [][]float64
	for i, x := range tensors {
		v := geo64(x)
		norms[i] = geoNorm(v)
		if norms[i] > tol {
			for j := range v {
				v[j] /= norms[i]
			}
			units = append(units, v)
		}
	}
	if len(units) == 0 {
		return make([]float64, size)
	}
	// the valid weights are equal, so normalised they are 1/len(units)
	a := 1 / float64(len(units))
	u := make([]float64, size)
	for _, ui := range units {
		for j := range u {
			u[j] += a * ui[j]
		}
	}
	if nu := geoNorm(u); nu < tol {
		copy(u, units[0])
	} else {
		for j := range u {
			u[j] /= nu
		}
	}
	T := make([]float64, size)
	for it := 0; it < maxIter; it++ {
		clear(T)
		for _, ui := range units {
			dot := geoClamp(geoDot(u, ui), -1, 1)
			theta := math.Acos(dot)
			if theta < tol {
				continue
			}
			f := a * theta / math.Sin(theta)
			for j := range T {
				T[j] += f * (ui[j] - dot*u[j])
			}
		}
		nT := geoNorm(T)
		if nT < tol {
			break
		}
		c, sn := math.Cos(nT), math.Sin(nT)
		for j := range u {
			u[j] = c*u[j] + sn*T[j]/nT
		}
		if nu := geoNorm(u); nu > tol {
			for j := range u {
				u[j] /= nu
			}
		}
	}
	scale := 0.0
	for _, n := range norms {
		scale += alpha * n
	}
	for j := range u {
		u[j] *= scale
	}
	return u
}

// ---------------------------------------------------------------- model_stock

// modelStockMethod is mergekit's "model_stock"
// (mergekit/merge_methods/model_stock.py, after Jang et al. 2024): with the
// models' offsets from the base dᵢ = wᵢ − w₀, cos θ is the mean over all pairs
// i<j of dᵢ·dⱼ/max(‖dᵢ‖‖dⱼ‖, 1e-6) (each clamped to [−1, 1]), and with k models
// t = k·cos θ / (1 + (k−1)·cos θ); the result is t·mean(wᵢ) + (1−t)·w₀. Over
// the whole tensor flattened, or with filter_wise per vector along the last
// dimension (per row of a [out,in] weight; a 1-D tensor is one row).
type modelStockMethod struct{}

func (modelStockMethod) Spec() Spec {
	return Spec{
		Name:      "model_stock",
		NeedsBase: true,
		MinModels: 2,
		Params: []ParamSpec{
			{Name: "filter_wise", Bool: true, Default: 0, Min: 0, Max: 1,
				Doc: "compute the ratio per row (vector along the last dimension) instead of per tensor"},
		},
		Doc: "model stock: moves the base towards the models' mean by a ratio set by the angle between their task vectors",
	}
}

func (m modelStockMethod) Merge(t Tensor) ([]float32, error) {
	k := len(t.Data)
	if t.Base == nil || k < 2 {
		return nil, fmt.Errorf("model_stock %s: needs a base model and at least two other models, got %d", t.Name, k)
	}
	w0 := geo64(t.Base)
	ws := make([][]float64, k)
	for i := range ws {
		ws[i] = geo64(t.Data[i])
	}
	outer, n, inner := 1, len(w0), 1
	if geoBool(t.Value(m.Spec(), -1, "filter_wise")) {
		outer, n, inner = geoVectors(t.Shape, len(w0), -1)
	}
	if outer*n*inner != len(w0) {
		return nil, fmt.Errorf("model_stock %s: shape %v does not hold %d values", t.Name, t.Shape, len(w0))
	}
	// inner is 1: vectors along the last dimension are contiguous
	out := make([]float64, len(w0))
	d := make([][]float64, k)
	for v := 0; v < outer; v++ {
		lo, hi := v*n, (v+1)*n
		for i := range d {
			d[i] = d[i][:0]
			for j := lo; j < hi; j++ {
				d[i] = append(d[i], ws[i][j]-w0[j])
			}
		}
		cos := geoStockCos(d)
		ratio := float64(k) * cos / (1 + float64(k-1)*cos)
		if math.IsNaN(ratio) || math.IsInf(ratio, 0) {
			return nil, fmt.Errorf("model_stock %s: the ratio is undefined (mean cos θ = %g = -1/(k-1))", t.Name, cos)
		}
		for j := lo; j < hi; j++ {
			avg := 0.0
			for i := range ws {
				avg += ws[i][j]
			}
			avg /= float64(k)
			out[j] = ratio*avg + (1-ratio)*w0[j]
		}
	}
	return geo32(out), nil
}

// geoStockCos is model stock's mean of the pairwise cosines of the offsets.
func geoStockCos(d [][]float64) float64 {
	sum, pairs := 0.0, 0
	norms := make([]float64, len(d))
	for i := range d {
		norms[i] = geoNorm(d[i])
	}
	for i := range d {
		for j := i + 1; j < len(d); j++ {
			c := geoDot(d[i], d[j]) / math.Max(norms[i]*norms[j], 1e-6)
			sum += geoClamp(c, -1, 1)
			pairs++
		}
	}
	return sum / float64(pairs)
}

// ---------------------------------------------------------------- nearswap

// nearswapMethod is mergekit's "nearswap" (mergekit/merge_methods/nearswap.py):
// element by element, weight = clamp(t / max(|base − other|, 1e-6), 0, 1) and
// the result is weight·other + (1 − weight)·base: values where the two models
// are within t of each other are taken from the other model, the rest move
// towards it by t/|difference|.
type nearswapMethod struct{}

func (nearswapMethod) Spec() Spec {
	return Spec{
		Name:      "nearswap",
		NeedsBase: true,
		MinModels: 1,
		MaxModels: 1,
		Params: []ParamSpec{
			{Name: "t", Required: true, Min: 0, Max: geoUnbounded,
				Doc: "similarity threshold: values of the two models closer than t are swapped in from the other model"},
		},
		Doc: "interpolates the base model towards one other model, element by element, by how close their values are",
	}
}

func (m nearswapMethod) Merge(t Tensor) ([]float32, error) {
	if t.Base == nil || len(t.Data) != 1 {
		return nil, fmt.Errorf("nearswap %s: needs the base model and exactly one other model, got %d other(s)", t.Name, len(t.Data))
	}
	tt := t.Value(m.Spec(), -1, "t")
	out := make([]float32, len(t.Base))
	for i := range out {
		a, b := float64(t.Base[i]), float64(t.Data[0][i])
		w := geoClamp(tt/math.Max(math.Abs(a-b), 1e-6), 0, 1)
		out[i] = float32(w*b + (1-w)*a)
	}
	return out, nil
}
