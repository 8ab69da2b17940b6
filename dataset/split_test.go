package dataset

import (
	"math"
	"slices"
	"testing"
)

// numberedSplit has n images of 1x1x2 whose bytes and label are the index.
func numberedSplit(n int) *Split {
	s := &Split{N: n, C: 1, H: 1, W: 2, Pixels: make([]uint8, 2*n), Labels: make([]uint8, n)}
	for i := 0; i < n; i++ {
		s.Pixels[2*i], s.Pixels[2*i+1], s.Labels[i] = uint8(i), uint8(i), uint8(i)
	}
	return s
}

func TestSubsetAndLimit(t *testing.T) {
	s := numberedSplit(5)
	sub := s.Subset([]int{4, 1, 1})
	if sub.N != 3 || !slices.Equal(sub.Labels, []uint8{4, 1, 1}) || !slices.Equal(sub.Pixels, []uint8{4, 4, 1, 1, 1, 1}) {
		t.Errorf("Subset: %+v", sub)
	}
	sub.Pixels[0] = 99
	if s.Pixels[8] != 4 {
		t.Error("Subset shares memory")
	}
	if s.Limit(0) != s || s.Limit(5) != s || s.Limit(9) != s {
		t.Error("Limit out of range should return s")
	}
	lim := s.Limit(2)
	if lim.N != 2 || len(lim.Pixels) != 4 || !slices.Equal(lim.Labels, []uint8{0, 1}) || lim.ImageSize() != 2 {
		t.Errorf("Limit(2): %+v", lim)
	}
}

func labelsOf(s *Split) []int {
	var out []int
	for _, l := range s.Labels {
		out = append(out, int(l))
	}
	return out
}

func TestSplitValidation(t *testing.T) {
	s := numberedSplit(100)
	rest, val, err := SplitValidation(s, 0.1, 42)
	if err != nil {
		t.Fatal(err)
	}
	if rest.N != 90 || val.N != 10 || len(val.Pixels) != 20 || len(rest.Labels) != 90 {
		t.Fatalf("sizes %d %d", rest.N, val.N)
	}
	r, v := labelsOf(rest), labelsOf(val)
	if !slices.IsSorted(r) || !slices.IsSorted(v) {
		t.Error("relative order not kept")
	}
	union := slices.Sorted(slices.Values(append(slices.Clone(r), v...)))
	for i, x := range union {
		if x != i {
			t.Fatalf("union is not 0..99 (disjoint and complete): %v", union)
		}
	}
	for i, l := range val.Labels {
		if val.Pixels[2*i] != l {
			t.Fatal("pixels and labels out of step")
		}
	}
	_, val2, _ := SplitValidation(s, 0.1, 42)
	if !slices.Equal(val.Labels, val2.Labels) {
		t.Error("not deterministic for one seed")
	}
	_, val3, _ := SplitValidation(s, 0.1, 43)
	if slices.Equal(val.Labels, val3.Labels) {
		t.Error("same split for another seed")
	}
	// round(0.25*10) = 3 (2.5 rounds away from zero).
	if _, val, _ := SplitValidation(numberedSplit(10), 0.25, 1); val.N != 3 {
		t.Errorf("round: val N = %d, want 3", val.N)
	}
}

func TestSplitValidationEdges(t *testing.T) {
	s := numberedSplit(10)
	rest, val, err := SplitValidation(s, 0, 1)
	if err != nil || rest.N != 10 || val.N != 0 || val.C != 1 || val.W != 2 || len(val.Pixels) != 0 {
		t.Errorf("frac 0: rest %d val %+v err %v", rest.N, val, err)
	}
	for _, frac := range []float64{-0.1, 1, 1.5, math.NaN()} {
		if _, _, err := SplitValidation(s, frac, 1); err == nil {
			t.Errorf("frac %v accepted", frac)
		}
	}
	if _, _, err := SplitValidation(s, 0.99, 1); err == nil {
		t.Error("a split leaving no training images accepted")
	}
}
