package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Split holds images as raw bytes, channel-first:
// Pixels[i*C*H*W + c*H*W + y*W + x], values 0..255. Labels holds the class
// index of each image (it is nil for images read without labels).
type Split struct {
	Pixels     []uint8
	Labels     []uint8
	N, C, H, W int
}

// ImageSize is the number of bytes (and of float32 inputs) of one image: C*H*W.
func (s *Split) ImageSize() int { return s.C * s.H * s.W }

// Image returns the raw bytes of image i (shared, not copied).
func (s *Split) Image(i int) []uint8 {
	size := s.ImageSize()
	return s.Pixels[i*size : (i+1)*size : (i+1)*size]
}

// Subset copies the images idx, in that order, into a new split.
// An index out of range panics, as slice indexing does.
func (s *Split) Subset(idx []int) *Split {
	size := s.ImageSize()
	out := &Split{
		Pixels: make([]uint8, len(idx)*size),
		N:      len(idx), C: s.C, H: s.H, W: s.W,
	}
	if s.Labels != nil {
		out.Labels = make([]uint8, len(idx))
	}
	for i, j := range idx {
		copy(out.Pixels[i*size:(i+1)*size], s.Image(j))
		if s.Labels != nil {
			out.Labels[i] = s.Labels[j]
		}
	}
	return out
}

// Limit returns the first n images. For n <= 0 or n >= N it returns s itself;
// otherwise the result shares s's memory (it is a view, cheap for --limit).
func (s *Split) Limit(n int) *Split {
	if n <= 0 || n >= s.N {
		return s
	}
	size := s.ImageSize()
	out := &Split{
		Pixels: s.Pixels[: n*size : n*size],
		N:      n, C: s.C, H: s.H, W: s.W,
	}
	if s.Labels != nil {
		out.Labels = s.Labels[:n:n]
	}
	return out
}

// validationSource is the second PCG word of SplitValidation's generator, so
// that the same --seed gives different streams here and in weight init.
const validationSource = 0x5eed

// SplitValidation carves a validation split out of train: a seeded random
// permutation (rand.New(rand.NewPCG(seed, 0x5eed))) picks round(frac*N)
// images as val, the rest stay in rest; both keep their original relative
// order, so the result depends only on (N, frac, seed). frac must be in
// [0, 1). With an empty validation split (frac 0, or N too small) rest is
// train itself, not a copy, to spare a copy of the whole training set.
func SplitValidation(train *Split, frac float64, seed uint64) (rest, val *Split, err error) {
	if train == nil {
		return nil, nil, fmt.Errorf("dataset: SplitValidation: nil training split")
	}
	if math.IsNaN(frac) || frac < 0 || frac >= 1 {
		return nil, nil, fmt.Errorf("dataset: validation fraction %v is out of range: want 0 <= frac < 1", frac)
	}
	k := int(math.Round(frac * float64(train.N)))
	if k == 0 {
		empty := &Split{Pixels: []uint8{}, N: 0, C: train.C, H: train.H, W: train.W}
		if train.Labels != nil {
			empty.Labels = []uint8{}
		}
		return train, empty, nil
	}
	if k >= train.N {
		return nil, nil, fmt.Errorf("dataset: validation fraction %v of %d images leaves no training images", frac, train.N)
	}
	rng := rand.New(rand.NewPCG(seed, validationSource))
	isVal := make([]bool, train.N)
	for _, i := range rng.Perm(train.N)[:k] {
		isVal[i] = true
	}
	restIdx := make([]int, 0, train.N-k)
	valIdx := make([]int, 0, k)
	for i, v := range isVal {
		if v {
			valIdx = append(valIdx, i)
		} else {
			restIdx = append(restIdx, i)
		}
	}
	return train.Subset(restIdx), train.Subset(valIdx), nil
}
