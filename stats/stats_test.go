package stats

import (
	"math"
	"testing"
)

func TestMeanStd(t *testing.T) {
	m, s := MeanStd([]float64{1, 2, 3, 4})
	// By hand: mean 2.5, squared deviations 2.25+0.25+0.25+2.25 = 5, /3.
	if m != 2.5 || math.Abs(s-math.Sqrt(5.0/3)) > 1e-15 {
		t.Errorf("mean %v std %v, want 2.5 and sqrt(5/3)", m, s)
	}
	if m, s := MeanStd([]float64{0.25}); m != 0.25 || s != 0 {
		t.Errorf("one value: %v ± %v", m, s)
	}
	if m, s := MeanStd(nil); !math.IsNaN(m) || !math.IsNaN(s) {
		t.Errorf("no value: %v ± %v, want NaN", m, s)
	}
}

func TestArgmax(t *testing.T) {
	for _, tc := range []struct {
		row  []float32
		want int
	}{
		{[]float32{0.1, 3, -2, 3}, 1}, // first of a tie
		{[]float32{-5, -4, -9}, 1},    // all negative
		{[]float32{7}, 0},
		{nil, 0},
	} {
		if got := Argmax(tc.row); got != tc.want {
			t.Errorf("Argmax(%v) = %d, want %d", tc.row, got, tc.want)
		}
	}
}

func TestCrossEntropy(t *testing.T) {
	row := []float32{1, -2, 0.5, 3}
	// Unstabilised softmax in float64 as the independent reference.
	var z float64
	for _, v := range row {
		z += math.Exp(float64(v))
	}
	for k := range row {
		want := -math.Log(math.Exp(float64(row[k])) / z)
		if got := CrossEntropy(row, k); math.Abs(got-want) > 1e-12 {
			t.Errorf("target %d: %v, want %v", k, got, want)
		}
	}
	// Large logits overflow the unstabilised form but not this one.
	big := []float32{1000, 999}
	if got, want := CrossEntropy(big, 1), math.Log(1+math.Exp(1)); math.Abs(got-want) > 1e-9 {
		t.Errorf("large logits: %v, want %v", got, want)
	}
}

func TestFiniteRange(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	if lo, hi := FiniteRange([][]float64{{nan, 3, -inf}, {}, {-2, inf, 0.5}}); lo != -2 || hi != 3 {
		t.Errorf("range %v..%v, want -2..3", lo, hi)
	}
	if lo, hi := FiniteRange([][]float64{{nan, inf}}); lo != 0 || hi != 0 {
		t.Errorf("no finite value: %v..%v, want 0..0", lo, hi)
	}
}
