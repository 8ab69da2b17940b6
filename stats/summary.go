package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Summary describes a set of accuracies.
type Summary struct {
	N    int     `json:"n"`
	Mean float64 `json:"mean"`
	Std  float64 `json:"std"` // sample standard deviation; 0 for one value
	Min  float64 `json:"min"`
	Max  float64 `json:"max"`
	// Low and High bound the 95% confidence interval of the mean (Student's
	// t with N-1 degrees of freedom); both equal Mean when N < 2.
	Low  float64 `json:"ci95_low"`
	High float64 `json:"ci95_high"`
}

// Summarise computes the summary of xs (the zero Summary for none).
func Summarise(xs []float64) Summary {
	s := Summary{N: len(xs)}
	if len(xs) == 0 {
		return s
	}
	s.Min, s.Max = xs[0], xs[0]
	for _, x := range xs {
		s.Mean += x
		s.Min, s.Max = math.Min(s.Min, x), math.Max(s.Max, x)
	}
	s.Mean /= float64(len(xs))
	s.Low, s.High = s.Mean, s.Mean
	if len(xs) < 2 {
		return s
	}
	for _, x := range xs {
		s.Std += (x - s.Mean) * (x - s.Mean)
	}
	s.Std = math.Sqrt(s.Std / float64(len(xs)-1))
	half := TQuantile975(len(xs)-1) * s.Std / math.Sqrt(float64(len(xs)))
	s.Low, s.High = s.Mean-half, s.Mean+half
	return s
}

// TQuantile975 is the 97.5% quantile of Student's t with df degrees of
// freedom: the half-width of a 95% interval in standard errors.
func TQuantile975(df int) float64 {
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(df)}.Quantile(0.975)
}
