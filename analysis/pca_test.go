package analysis

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func TestPCARecoversDominantDirection(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	const n, d = 400, 10
	u := make([]float64, d) // the known direction, unit length
	for j := range u {
		u[j] = rng.NormFloat64()
	}
	norm := math.Sqrt(mat.Dot(mat.NewVecDense(d, u), mat.NewVecDense(d, u)))
	for j := range u {
		u[j] /= norm
	}
	x := mat.NewDense(n, d, nil)
	ts := make([]float64, n)
	for i := 0; i < n; i++ {
		ts[i] = 5 * rng.NormFloat64()
		for j := 0; j < d; j++ {
			x.Set(i, j, 2+ts[i]*u[j]+0.1*rng.NormFloat64())
		}
	}
	proj, comps, explained, err := PCA(x, 2)
	if err != nil {
		t.Fatal(err)
	}
	var dot float64
	largest := 0
	for j := 0; j < d; j++ {
		dot += comps.At(j, 0) * u[j]
		if math.Abs(comps.At(j, 0)) > math.Abs(comps.At(largest, 0)) {
			largest = j
		}
	}
	if math.Abs(dot) < 0.999 {
		t.Errorf("first component . known direction = %.5f, want ±1", dot)
	}
	if comps.At(largest, 0) < 0 {
		t.Error("the first component's largest entry is negative; the sign is not fixed")
	}
	if explained[0] < 0.98 || explained[1] > 0.01 {
		t.Errorf("explained variance %v, want about [0.99+, <0.01]", explained)
	}
	// The projection on the first component is the latent t, up to sign and the mean.
	var tMean float64
	for _, v := range ts {
		tMean += v / n
	}
	sign := math.Copysign(1, dot)
	for i := 0; i < n; i += 37 {
		if got, want := proj.At(i, 0), sign*(ts[i]-tMean); math.Abs(got-want) > 0.5 {
			t.Errorf("point %d projects to %.3f, want %.3f", i, got, want)
		}
	}
	if _, _, _, err := PCA(x, d+1); err == nil {
		t.Error("PCA to more components than dimensions succeeded")
	}
}

func TestSlotShare(t *testing.T) {
	var apart, mixed []Point
	rng := rand.New(rand.NewPCG(1, 1))
	for i := 0; i < 300; i++ {
		s := i % 3
		apart = append(apart, Point{X: 100*float64(s) + rng.NormFloat64(), Y: rng.NormFloat64(), Slot: s})
		mixed = append(mixed, Point{X: rng.NormFloat64(), Y: rng.NormFloat64(), Slot: s})
	}
	if got := slotShare(apart, 3); got < 0.99 {
		t.Errorf("slot share of well separated slots = %.4f, want about 1", got)
	}
	if got := slotShare(mixed, 3); got > 0.05 {
		t.Errorf("slot share of slot-independent points = %.4f, want about 0", got)
	}
}
