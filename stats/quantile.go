package stats

import (
	"math"
	"slices"
)

// Quantile is the q-quantile (0 <= q <= 1) of xs with linear interpolation
// between the order statistics (numpy's default, "type 7"): the median is
// Quantile(xs, 0.5), a p99 latency Quantile(xs, 0.99). NaN for no values.
func Quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 || q < 0 || q > 1 || math.IsNaN(q) {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	pos := q * float64(len(s)-1)
	lo := int(math.Floor(pos))
	if lo+1 >= len(s) {
		return s[len(s)-1]
	}
	return s[lo] + (pos-float64(lo))*(s[lo+1]-s[lo])
}
