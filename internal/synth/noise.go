package synth

import (
	"math/rand/v2"

	"github.com/frankenvit/frankenvit/dataset"
)

// NoiseSplit is n images of c×h×w uniformly random 8-bit pixels with labels
// drawn uniformly from classes (pixels first, then labels, from rng): data
// with no signal, for speed measurements and for checks that compare two
// computations on the same images.
func NoiseSplit(n, c, h, w, classes int, rng *rand.Rand) *dataset.Split {
	s := &dataset.Split{Pixels: make([]uint8, n*c*h*w), Labels: make([]uint8, n), N: n, C: c, H: h, W: w}
	for i := range s.Pixels {
		s.Pixels[i] = uint8(rng.IntN(256))
	}
	for i := range s.Labels {
		s.Labels[i] = uint8(rng.IntN(classes))
	}
	return s
}
