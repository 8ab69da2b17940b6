package dataset

import (
	"fmt"
	"math"
)

// Normalization is the per-channel mean and std of pixel/255 over a split
// (the training split's values are stored in checkpoint metadata).
type Normalization struct {
	Mean []float32 `json:"mean"`
	Std  []float32 `json:"std"`
}

// minStd keeps a constant channel from dividing by zero.
const minStd = 1e-6

// ComputeNormalization returns the per-channel mean and population std of
// pixel/255 over s, computed in float64 from a 256-bin histogram per channel
// (exact and order-independent). Std is at least 1e-6. An empty split gives
// mean 0 and std 1, the identity.
//
// On a lazy split (OpenFolder) the statistics are those of the evaluation
// transform (resize and centre crop, as Fill without augmentation gives) of
// an evenly spaced, deterministic sample of at most 1000 images: image
// floor(i*N/k) for i < k = min(N, 1000). A file that cannot be read then
// panics with its *ReadError; MeasureNormalization returns it instead.
func ComputeNormalization(s *Split) Normalization {
	norm, err := MeasureNormalization(s)
	if err != nil {
		panic(err)
	}
	return norm
}

// MeasureNormalization is ComputeNormalization returning the *ReadError of
// an image of a lazy split that cannot be read (a split in memory never
// fails).
func MeasureNormalization(s *Split) (Normalization, error) {
	norm := Normalization{Mean: make([]float32, s.C), Std: make([]float32, s.C)}
	plane := s.H * s.W
	if s.N == 0 || plane == 0 {
		for c := range norm.Std {
			norm.Std[c] = 1
		}
		return norm, nil
	}
	hist := make([][256]uint64, s.C)
	count := float64(s.N) * float64(plane)
	if s.files != nil {
		var err error
		if count, err = s.lazyHistogram(hist); err != nil {
			return Normalization{}, err
		}
	} else {
		for i := 0; i < s.N; i++ {
			for c := 0; c < s.C; c++ {
				h := &hist[c]
				start := (i*s.C + c) * plane
				for _, v := range s.Pixels[start : start+plane] {
					h[v]++
				}
			}
		}
	}
	for c := range hist {
		var sum float64
		for v, n := range hist[c] {
			sum += float64(n) * float64(v) / 255
		}
		mean := sum / count
		var sq float64
		for v, n := range hist[c] {
			d := float64(v)/255 - mean
			sq += float64(n) * d * d
		}
		std := math.Sqrt(sq / count)
		if std < minStd {
			std = minStd
		}
		norm.Mean[c] = float32(mean)
		norm.Std[c] = float32(std)
	}
	return norm, nil
}

// Check reports whether norm fits images of c channels: one mean and one
// std per channel, every mean finite and every std positive and finite (a
// std of 0, NaN or Inf would make every input NaN or 0). Use it on
// normalisation read from a file; the error is one line without a package
// prefix, for the caller to say where the values came from.
func (norm Normalization) Check(c int) error {
	if len(norm.Mean) != c || len(norm.Std) != c {
		return fmt.Errorf("%d mean(s) and %d std(s) for images of %d channel(s): want one of each per channel", len(norm.Mean), len(norm.Std), c)
	}
	for i, sd := range norm.Std {
		if m := float64(norm.Mean[i]); math.IsNaN(m) || math.IsInf(m, 0) {
			return fmt.Errorf("channel %d has mean %v: want a finite number", i, norm.Mean[i])
		}
		if !(sd > 0) || math.IsInf(float64(sd), 0) {
			return fmt.Errorf("channel %d has std %v: want a positive finite number", i, sd)
		}
	}
	return nil
}

// lookupTable maps every byte value to (v/255 - mean) / std, computed in
// float64 and rounded once to float32, so Fill is one load per pixel.
func (norm Normalization) lookupTable(c int) [256]float32 {
	var lut [256]float32
	mean, std := float64(norm.Mean[c]), float64(norm.Std[c])
	for v := range lut {
		lut[v] = float32((float64(v)/255 - mean) / std)
	}
	return lut
}
