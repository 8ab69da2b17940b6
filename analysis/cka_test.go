package analysis

import (
	"math"
	"math/rand/v2"
	"runtime"
	"testing"

	"gonum.org/v1/gonum/mat"
)

func gaussian(rng *rand.Rand, r, c int) *mat.Dense {
	m := mat.NewDense(r, c, nil)
	for i := 0; i < r; i++ {
		for j := 0; j < c; j++ {
			m.Set(i, j, rng.NormFloat64())
		}
	}
	return m
}

// randomOrthogonal is the Q of the QR factorisation of a Gaussian matrix.
func randomOrthogonal(rng *rand.Rand, n int) *mat.Dense {
	var qr mat.QR
	qr.Factorize(gaussian(rng, n, n))
	var q mat.Dense
	qr.QTo(&q)
	return &q
}

func TestLinearCKAKnownCases(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	x := gaussian(rng, 500, 8)
	// Give x some structure, so rotations and rescalings could matter.
	for j := 0; j < 8; j++ {
		for i := 0; i < 500; i++ {
			x.Set(i, j, x.At(i, j)*float64(j+1)+3)
		}
	}
	var rotated, scaled, shifted, stretched mat.Dense
	rotated.Mul(x, randomOrthogonal(rng, 8))
	scaled.Scale(-4.2, x)
	shifted.Apply(func(i, j int, v float64) float64 { return v + 10*float64(j) }, x)
	// Scaling one axis only is not isotropic: CKA must notice.
	stretched.Apply(func(i, j int, v float64) float64 {
		if j == 0 {
			return 20 * v
		}
		return v
	}, x)
	for _, c := range []struct {
		name string
		y    mat.Matrix
		want float64
	}{{"itself", x, 1}, {"orthogonal transform", &rotated, 1}, {"isotropic scaling", &scaled, 1},
		{"translation", &shifted, 1}} {
		if got := LinearCKA(x, c.y); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("CKA with %s = %.12f, want %g", c.name, got, c.want)
		}
	}
	if got := LinearCKA(x, &stretched); got > 0.9 {
		t.Errorf("CKA with one axis stretched 20x = %.4f, want clearly below 1", got)
	}
	// Independent Gaussian features: CKA is about p*q/n = 0.02 here.
	a, b := gaussian(rng, 2000, 6), gaussian(rng, 2000, 6)
	if got := LinearCKA(a, b); got > 0.05 || got < 0 {
		t.Errorf("CKA of independent features = %.4f, want near 0", got)
	}
	// A representation that keeps only part of another: strictly between.
	part := mat.DenseCopyOf(x.Slice(0, 500, 0, 4))
	if got := LinearCKA(x, part); got <= 0.05 || got >= 0.999 {
		t.Errorf("CKA with half the features = %.4f, want strictly between 0 and 1", got)
	}
	if got := LinearCKA(x, mat.NewDense(500, 3, nil)); !math.IsNaN(got) {
		t.Errorf("CKA with a constant representation = %v, want NaN", got)
	}
}

func TestCKAMatrixMatchesPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	x := gaussian(rng, 300, 5)
	var y mat.Dense
	y.Mul(x, gaussian(rng, 5, 7))
	reps := []mat.Matrix{x, &y, nil, gaussian(rng, 300, 4)}
	m := CKAMatrix(reps)
	for i := range reps {
		for j := range reps {
			got := m.At(i, j)
			if reps[i] == nil || reps[j] == nil {
				if !math.IsNaN(got) {
					t.Errorf("(%d,%d) = %v, want NaN for a missing representation", i, j, got)
				}
				continue
			}
			if want := LinearCKA(reps[i], reps[j]); math.Abs(got-want) > 1e-12 {
				t.Errorf("(%d,%d) = %v, pairwise %v", i, j, got, want)
			}
		}
	}
	if CKAMatrix(nil) != nil {
		t.Error("CKAMatrix of nothing is not nil")
	}
	// The pairs run on every core: one core gives the same bits.
	func() {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
		one := CKAMatrix(reps)
		for i := range reps {
			for j := range reps {
				if a, b := one.At(i, j), m.At(i, j); math.Float64bits(a) != math.Float64bits(b) {
					t.Errorf("(%d,%d) = %v on one core, %v on all", i, j, a, b)
				}
			}
		}
	}()
}
