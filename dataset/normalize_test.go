package dataset

import (
	"math"
	"strings"
	"testing"
)

func TestComputeNormalization(t *testing.T) {
	// Two 2-channel 1x2 images. Channel 0 holds 0, 255, 0, 255: mean 0.5,
	// std 0.5. Channel 1 is constant 51: mean 0.2, std floored to 1e-6.
	s := &Split{N: 2, C: 2, H: 1, W: 2, Pixels: []uint8{0, 255, 51, 51, 255, 0, 51, 51}, Labels: []uint8{0, 0}}
	n := ComputeNormalization(s)
	want := Normalization{Mean: []float32{0.5, 0.2}, Std: []float32{0.5, 1e-6}}
	for c := 0; c < 2; c++ {
		if n.Mean[c] != want.Mean[c] || n.Std[c] != want.Std[c] {
			t.Errorf("channel %d: mean %v std %v, want %v %v", c, n.Mean[c], n.Std[c], want.Mean[c], want.Std[c])
		}
	}
	if err := n.Check(2); err != nil {
		t.Error(err)
	}
	if err := n.Check(3); err == nil {
		t.Error("Check accepted the wrong channel count")
	}
	// Values 0, 51, 102: mean 51/255 = 0.2, population variance 2/3 * 0.04.
	s = &Split{N: 3, C: 1, H: 1, W: 1, Pixels: []uint8{0, 51, 102}}
	n = ComputeNormalization(s)
	if n.Mean[0] != 0.2 || n.Std[0] != float32(math.Sqrt(0.08/3)) {
		t.Errorf("mean %v std %v", n.Mean[0], n.Std[0])
	}
	empty := ComputeNormalization(&Split{C: 3, H: 2, W: 2})
	if len(empty.Mean) != 3 || empty.Mean[0] != 0 || empty.Std[2] != 1 {
		t.Errorf("empty split: %+v", empty)
	}
}

// Check refuses what would make inputs NaN or 0: a wrong number of values,
// a std of 0, NaN, Inf or below 0, a NaN or Inf mean; each is one line
// naming the channel or the counts.
func TestCheckNormalization(t *testing.T) {
	nan, inf := float32(math.NaN()), float32(math.Inf(1))
	for _, c := range []struct {
		n    Normalization
		want string
	}{
		{Normalization{Mean: []float32{0.1, 0.2}, Std: []float32{0.3, 0.3}}, "2 mean(s) and 2 std(s) for images of 1 channel(s)"},
		{Normalization{Mean: []float32{0.1}, Std: nil}, "1 mean(s) and 0 std(s)"},
		{Normalization{Mean: []float32{0.1}, Std: []float32{0}}, "channel 0 has std 0: want a positive finite number"},
		{Normalization{Mean: []float32{0.1}, Std: []float32{-1}}, "channel 0 has std -1"},
		{Normalization{Mean: []float32{0.1}, Std: []float32{nan}}, "channel 0 has std NaN"},
		{Normalization{Mean: []float32{0.1}, Std: []float32{inf}}, "channel 0 has std +Inf"},
		{Normalization{Mean: []float32{nan}, Std: []float32{1}}, "channel 0 has mean NaN: want a finite number"},
		{Normalization{Mean: []float32{-inf}, Std: []float32{1}}, "channel 0 has mean -Inf"},
	} {
		err := c.n.Check(1)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: %v, want %q", c.n, err, c.want)
		}
	}
	if err := (Normalization{Mean: []float32{0.1, 0.2, 0.3}, Std: []float32{1, 2, 3}}).Check(3); err != nil {
		t.Error(err)
	}
}
