package dataset

import (
	"fmt"
	"math/rand/v2"
)

// Augment describes the training-time augmentation Fill applies.
// MaxShift is the largest random translation, in pixels, along x and along y
// (each drawn uniformly from -MaxShift..MaxShift); 0 turns it off. Pixels
// shifted in are raw value 0 (black), i.e. (0 - mean[c]) / std[c] once
// normalised, matching the dark background of MNIST-like data. MaxShift
// applies to splits held in memory only.
//
// RandomResizedCrop is the augmentation of a lazy split (OpenFolder): each
// image becomes torchvision's RandomResizedCrop of its Preprocess (Scale,
// Ratio) resized to Height x Width, flipped horizontally with probability
// FlipP. It applies to lazy splits only. Fill draws every image's random
// numbers (41 rng.Float64 values: 10 crop attempts of 4, then the flip), in
// idx order, before decoding any, so a batch depends on rng alone, not on
// GOMAXPROCS.
type Augment struct {
	MaxShift          int
	RandomResizedCrop bool
}

// Fill writes the images idx into dst (len(idx)*C*H*W float32, channel-first)
// as (pixel/255 - mean[c]) / std[c], and their labels into lab (len(idx); lab
// may be nil to skip labels). With aug non-nil and MaxShift > 0 every image is
// shifted by a random (dx, dy) drawn from rng (dx first, then dy), the same
// shift for all its channels; rng is not used otherwise. It runs every
// training batch, so it works through a 256-entry lookup table per channel.
// Wrong buffer sizes or a normalisation with too few channels are programming
// errors and panic; an image that cannot be read is an error.
//
// On a lazy split (OpenFolder) Fill decodes the images idx from their files
// in up to runtime.GOMAXPROCS goroutines, each writing its own images'
// slots: by the evaluation transform of the split's Preprocess (aug nil or
// without RandomResizedCrop), or by that augmentation; resized values are
// rounded to bytes, as PIL stores them, before normalisation. A file that
// cannot be read or decoded is a *ReadError naming it (the images that could
// be decoded are written all the same). MaxShift on a lazy split, and
// RandomResizedCrop on one in memory, are errors.
func (s *Split) Fill(dst []float32, lab []int32, idx []int, norm Normalization, aug *Augment, rng *rand.Rand) error {
	size := s.ImageSize()
	if len(dst) < len(idx)*size {
		panic(fmt.Sprintf("dataset: Fill: dst has %d floats, want %d", len(dst), len(idx)*size))
	}
	if lab != nil && len(lab) < len(idx) {
		panic(fmt.Sprintf("dataset: Fill: lab has %d entries, want %d", len(lab), len(idx)))
	}
	if len(norm.Mean) < s.C || len(norm.Std) < s.C {
		panic(fmt.Sprintf("dataset: Fill: normalisation has %d/%d channels, images have %d", len(norm.Mean), len(norm.Std), s.C))
	}
	if aug != nil && aug.MaxShift > 0 && s.files != nil {
		return fmt.Errorf("dataset: Fill: MaxShift applies to images in memory; a split opened by OpenFolder is augmented by RandomResizedCrop")
	}
	if aug != nil && aug.RandomResizedCrop {
		if s.files == nil {
			return fmt.Errorf("dataset: Fill: RandomResizedCrop applies to full-size images decoded from disk (OpenFolder), not to images in memory")
		}
		if rng == nil {
			panic("dataset: Fill: augmentation needs an rng")
		}
	}
	maxShift := 0
	if aug != nil && aug.MaxShift > 0 {
		maxShift = aug.MaxShift
		if rng == nil {
			panic("dataset: Fill: augmentation needs an rng")
		}
	}
	var small [3][256]float32 // no allocation for gray and RGB images
	luts := small[:0]
	if s.C > len(small) {
		luts = make([][256]float32, 0, s.C)
	}
	for c := 0; c < s.C; c++ {
		luts = append(luts, norm.lookupTable(c))
	}
	if s.files != nil {
		return s.fillLazy(dst, lab, idx, luts, aug, rng)
	}
	plane := s.H * s.W
	for i, j := range idx {
		src := s.Pixels[j*size : (j+1)*size]
		out := dst[i*size : (i+1)*size]
		if lab != nil {
			lab[i] = int32(s.Labels[j])
		}
		dx, dy := 0, 0
		if maxShift > 0 {
			dx = rng.IntN(2*maxShift+1) - maxShift
			dy = rng.IntN(2*maxShift+1) - maxShift
		}
		for c := range luts {
			lut := &luts[c]
			srcPlane := src[c*plane : (c+1)*plane]
			outPlane := out[c*plane : (c+1)*plane]
			if dx == 0 && dy == 0 {
				for k, v := range srcPlane {
					outPlane[k] = lut[v]
				}
				continue
			}
			shiftPlane(outPlane, srcPlane, lut, s.H, s.W, dx, dy)
		}
	}
	return nil
}

// shiftPlane writes out(y, x) = lut[in(y-dy, x-dx)], or lut[0] where that
// source pixel lies outside the image: the content moves by (+dx, +dy).
func shiftPlane(out []float32, in []uint8, lut *[256]float32, h, w, dx, dy int) {
	pad := lut[0]
	x0, x1 := max(0, dx), min(w, w+dx) // columns whose source is inside
	for y := 0; y < h; y++ {
		row := out[y*w : (y+1)*w]
		sy := y - dy
		if sy < 0 || sy >= h || x0 >= x1 {
			for x := range row {
				row[x] = pad
			}
			continue
		}
		srcRow := in[sy*w : (sy+1)*w]
		for x := 0; x < x0; x++ {
			row[x] = pad
		}
		for x, v := range srcRow[x0-dx : x1-dx] {
			row[x0+x] = lut[v]
		}
		for x := x1; x < w; x++ {
			row[x] = pad
		}
	}
}

// ReadError is an image of a split that could not be read or decoded (a
// full-size folder data set is decoded as it is used). Code that cannot
// return an error from deep inside an evaluation panics with it; the
// command line reports it as an ordinary one-line error.
type ReadError struct {
	Path string
	Err  error
}

func (e *ReadError) Error() string { return fmt.Sprintf("dataset: %s: %v", e.Path, e.Err) }

func (e *ReadError) Unwrap() error { return e.Err }

// MustFill is Fill for callers that have no error path (the evaluators): an
// image that cannot be read panics with its *ReadError.
func (s *Split) MustFill(dst []float32, lab []int32, idx []int, norm Normalization) {
	if err := s.Fill(dst, lab, idx, norm, nil, nil); err != nil {
		panic(err)
	}
}
