package stats

import (
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/testenv"
)

// The expected values are numpy.quantile's (the default linear method),
// worked by hand for the small cases and computed by numpy for the random one.
func TestQuantile(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		q    float64
		want float64
	}{
		{[]float64{1, 2, 3, 4}, 0.5, 2.5},
		{[]float64{4, 1, 3, 2}, 0.99, 3.97},
		{[]float64{7}, 0.99, 7},
		{[]float64{3, 1, 2}, 0, 1},
		{[]float64{3, 1, 2}, 1, 3},
		{[]float64{10, 20}, 0.25, 12.5},
	} {
		if got := Quantile(c.xs, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", c.xs, c.q, got, c.want)
		}
	}
	if !math.IsNaN(Quantile(nil, 0.5)) || !math.IsNaN(Quantile([]float64{1}, 1.5)) {
		t.Error("no values or q outside [0, 1] must give NaN")
	}
}

func TestQuantileAgainstNumpy(t *testing.T) {
	testenv.NeedTorch(t) // numpy comes with python3-torch
	xs := make([]float64, 101)
	for i := range xs {
		xs[i] = math.Sin(float64(i)*1.7) * 100
	}
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	script := "import numpy as np\nxs=np.array([" + strings.Join(parts, ",") + "])\nprint(np.quantile(xs,0.5), np.quantile(xs,0.99), np.quantile(xs,0.123))"
	out, err := exec.Command(testenv.Python, "-c", script).Output()
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Fields(string(out))
	for i, q := range []float64{0.5, 0.99, 0.123} {
		want, _ := strconv.ParseFloat(f[i], 64)
		if got := Quantile(xs, q); math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("q=%v: %v, numpy %v", q, got, want)
		}
	}
}
