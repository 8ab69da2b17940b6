package dataset

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Split holds images as raw bytes, channel-first:
// Pixels[i*C*H*W + c*H*W + y*W + x], values 0..255. Labels holds the class
// index of each image (it is nil for images read without labels).
//
// A split opened by OpenFolder is lazy (see Lazy): its Pixels are empty and
// Fill decodes its images from their files, to C x H x W, as it is called.
type Split struct {
	Pixels     []uint8
	Labels     []uint8
	N, C, H, W int

	files *lazyFiles // the image files of a lazy split, nil otherwise
}

// ImageSize is the number of bytes (and of float32 inputs) of one image: C*H*W.
func (s *Split) ImageSize() int { return s.C * s.H * s.W }

// Image returns the raw bytes of image i (shared, not copied). A lazy split
// has no raw bytes: Image panics on one (use Fill).
func (s *Split) Image(i int) []uint8 {
	if s.files != nil {
		panic("dataset: Image on a lazy split (OpenFolder): its images are decoded by Fill")
	}
	size := s.ImageSize()
	return s.Pixels[i*size : (i+1)*size : (i+1)*size]
}

// Subset copies the images idx, in that order, into a new split (of a lazy
// split: their file names, nothing is decoded).
// An index out of range panics, as slice indexing does.
func (s *Split) Subset(idx []int) *Split {
	if s.files != nil {
		files := &lazyFiles{paths: make([]string, len(idx)), pre: s.files.pre, filter: s.files.filter}
		out := &Split{N: len(idx), C: s.C, H: s.H, W: s.W, files: files}
		if s.Labels != nil {
			out.Labels = make([]uint8, len(idx))
		}
		for i, j := range idx {
			files.paths[i] = s.files.paths[j]
			if s.Labels != nil {
				out.Labels[i] = s.Labels[j]
			}
		}
		return out
	}
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
	out := &Split{N: n, C: s.C, H: s.H, W: s.W}
	if s.files != nil {
		out.files = &lazyFiles{paths: s.files.paths[:n:n], pre: s.files.pre, filter: s.files.filter}
	} else {
		size := s.ImageSize()
		out.Pixels = s.Pixels[: n*size : n*size]
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
		return train, train.Subset([]int{}), nil
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
