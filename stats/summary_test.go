package stats

import (
	"math"
	"testing"
)

func TestSummarise(t *testing.T) {
	s := Summarise([]float64{0.5, 0.7, 0.9})
	// mean 0.7, std 0.2, t(2) = 4.302653, half-width 4.302653*0.2/sqrt(3)
	half := 4.302652729911275 * 0.2 / math.Sqrt(3)
	if math.Abs(s.Mean-0.7) > 1e-12 || math.Abs(s.Std-0.2) > 1e-12 || s.Min != 0.5 || s.Max != 0.9 ||
		math.Abs(s.High-s.Mean-half) > 1e-9 || math.Abs(s.Mean-s.Low-half) > 1e-9 || s.N != 3 {
		t.Errorf("got %+v, want mean 0.7 std 0.2 half-width %v", s, half)
	}
	one := Summarise([]float64{0.3})
	if one.Std != 0 || one.Low != 0.3 || one.High != 0.3 {
		t.Errorf("one value: %+v", one)
	}
	if math.Abs(TQuantile975(1000)-1.962339) > 1e-5 {
		t.Errorf("t(1000) = %v, want about 1.96", TQuantile975(1000))
	}
}
