package stats

import "math"

// MeanStd is the mean and the sample standard deviation (n-1) of xs: std 0
// for one value, and NaN for both when xs is empty (no measurement is not a
// measurement of 0).
func MeanStd(xs []float64) (mean, std float64) {
	if len(xs) == 0 {
		return math.NaN(), math.NaN()
	}
	s := Summarise(xs)
	return s.Mean, s.Std
}

// Argmax is the index of the largest entry of row, the first one on ties
// (the predicted class of a row of logits); 0 for an empty row.
func Argmax(row []float32) int {
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return best
}

// CrossEntropy is -log softmax(row)[target], computed in float64 and
// stabilised by the row's maximum.
func CrossEntropy(row []float32, target int) float64 {
	mx := math.Inf(-1)
	for _, v := range row {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - mx)
	}
	return math.Log(s) + mx - float64(row[target])
}

// FiniteRange is the smallest and largest finite value of a grid of rows
// (NaN and Inf left out); 0, 0 when there is none.
func FiniteRange(rows [][]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, row := range rows {
		for _, v := range row {
			if !math.IsNaN(v) && !math.IsInf(v, 0) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	if lo > hi {
		return 0, 0
	}
	return lo, hi
}
