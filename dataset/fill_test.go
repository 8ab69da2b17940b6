package dataset

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFillValues(t *testing.T) {
	// Two RGB 1x2 images with distinct bytes per channel.
	s := &Split{N: 2, C: 3, H: 1, W: 2, Labels: []uint8{7, 3},
		Pixels: []uint8{0, 255, 51, 102, 204, 153 /* image 1 */, 1, 2, 3, 4, 5, 6}}
	norm := Normalization{Mean: []float32{0, 0.5, 0.2}, Std: []float32{1, 0.5, 0.25}}
	dst := make([]float32, 12)
	lab := make([]int32, 2)
	s.Fill(dst, lab, []int{1, 0}, norm, nil, nil)
	if !slices.Equal(lab, []int32{3, 7}) {
		t.Errorf("labels %v", lab)
	}
	// Image 0 lands second: channel 0 values 0, 1; channel 1: (0.2-0.5)/0.5,
	// (0.4-0.5)/0.5; channel 2: (0.8-0.2)/0.25, (0.6-0.2)/0.25.
	want := []float32{0, 1, -0.6, -0.2, 2.4, 1.6}
	for k, w := range want {
		if d := dst[6+k] - w; d > 1e-6 || d < -1e-6 {
			t.Errorf("dst[%d] = %v, want %v", 6+k, dst[6+k], w)
		}
	}
	// Exact: each value is (v/255 - mean)/std in float64, rounded once.
	for i, j := range []int{1, 0} {
		for k := 0; k < 6; k++ {
			c := k / 2
			v := float64(s.Pixels[j*6+k])
			exact := float32((v/255 - float64(norm.Mean[c])) / float64(norm.Std[c]))
			if dst[i*6+k] != exact {
				t.Errorf("image %d byte %d: %v, want exactly %v", j, k, dst[i*6+k], exact)
			}
		}
	}
	// MaxShift 0 is the identity and draws nothing from rng.
	dst2 := make([]float32, 12)
	rng := rand.New(rand.NewPCG(1, 2))
	s.Fill(dst2, nil, []int{1, 0}, norm, &Augment{MaxShift: 0}, rng)
	if !slices.Equal(dst, dst2) {
		t.Error("MaxShift 0 changed the output")
	}
	if rng.Uint64() != rand.New(rand.NewPCG(1, 2)).Uint64() {
		t.Error("MaxShift 0 consumed random numbers")
	}
}

// shifted returns img (h x w, one channel) moved by (dx, dy), zero filled.
func shifted(img []uint8, h, w, dx, dy int) []uint8 {
	out := make([]uint8, len(img))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			sy, sx := y-dy, x-dx
			if sy >= 0 && sy < h && sx >= 0 && sx < w {
				out[y*w+x] = img[sy*w+sx]
			}
		}
	}
	return out
}

func TestFillShift(t *testing.T) {
	const h, w, maxShift = 5, 6, 2
	img := make([]uint8, h*w)
	for k := range img {
		img[k] = uint8(10 + k) // no zero pixel: padding is recognisable
	}
	s := &Split{N: 1, C: 2, H: h, W: w, Labels: []uint8{0}, Pixels: append(slices.Clone(img), img...)}
	norm := Normalization{Mean: []float32{0.1, 0.3}, Std: []float32{0.5, 2}}
	lut0, lut1 := norm.lookupTable(0), norm.lookupTable(1)
	aug := &Augment{MaxShift: maxShift}
	rng := rand.New(rand.NewPCG(7, 0))
	seen := map[[2]int]bool{}
	dst := make([]float32, 2*h*w)
	for trial := 0; trial < 60; trial++ {
		s.Fill(dst, nil, []int{0}, norm, aug, rng)
		found := false
		for dy := -maxShift; dy <= maxShift && !found; dy++ {
			for dx := -maxShift; dx <= maxShift && !found; dx++ {
				want := shifted(img, h, w, dx, dy)
				ok := true
				for k, v := range want {
					ok = ok && dst[k] == lut0[v] && dst[h*w+k] == lut1[v]
				}
				if ok {
					found = true
					seen[[2]int{dx, dy}] = true
				}
			}
		}
		if !found {
			t.Fatalf("trial %d: output is not the image shifted by at most %d in x and y (same shift on both channels)", trial, maxShift)
		}
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct shifts in 60 draws", len(seen))
	}

	// Deterministic per seed: the same seed gives the same batch.
	batch := func(seed uint64) []float32 {
		out := make([]float32, 4*2*h*w)
		s.Fill(out, nil, []int{0, 0, 0, 0}, norm, aug, rand.New(rand.NewPCG(seed, 0)))
		return out
	}
	if !slices.Equal(batch(3), batch(3)) {
		t.Error("same seed, different batches")
	}
	if slices.Equal(batch(3), batch(4)) {
		t.Error("different seeds, same batch")
	}
}

func TestShiftPlaneKnown(t *testing.T) {
	// 3x3 ramp moved right by 1 and up by 1.
	var lut [256]float32
	for v := range lut {
		lut[v] = float32(v)
	}
	in := []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9}
	out := make([]float32, 9)
	shiftPlane(out, in, &lut, 3, 3, 1, -1)
	want := []float32{0, 4, 5, 0, 7, 8, 0, 0, 0}
	if !slices.Equal(out, want) {
		t.Errorf("got %v, want %v", out, want)
	}
	shiftPlane(out, in, &lut, 3, 3, 5, 0) // shifted entirely out
	if !slices.Equal(out, make([]float32, 9)) {
		t.Errorf("got %v", out)
	}
}

func BenchmarkFillMNISTBatch(b *testing.B) {
	s := &Split{N: 256, C: 1, H: 28, W: 28, Pixels: make([]uint8, 256*784), Labels: make([]uint8, 256)}
	norm := ComputeNormalization(s)
	idx := make([]int, 64)
	for i := range idx {
		idx[i] = i * 3
	}
	dst, lab := make([]float32, 64*784), make([]int32, 64)
	rng := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		s.Fill(dst, lab, idx, norm, &Augment{MaxShift: 2}, rng)
	}
}
