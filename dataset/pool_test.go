package dataset

import (
	"slices"
	"strings"
	"testing"
)

func tinySplit(n, h, w int, label uint8, pixel uint8) *Split {
	s := &Split{N: n, C: 1, H: h, W: w, Pixels: make([]uint8, n*h*w), Labels: make([]uint8, n)}
	for i := range s.Pixels {
		s.Pixels[i] = pixel
	}
	for i := range s.Labels {
		s.Labels[i] = label + uint8(i%2)
	}
	return s
}

func TestPoolOffsetsLabels(t *testing.T) {
	a, b, c := tinySplit(2, 2, 2, 0, 10), tinySplit(3, 2, 2, 2, 20), tinySplit(1, 2, 2, 1, 30)
	p, err := Pool([]string{"a", "b", "c"}, []*Split{a, b, c}, 4)
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint8{0, 1, 6, 7, 6, 9}; !slices.Equal(p.Labels, want) {
		t.Errorf("labels %v, want %v", p.Labels, want)
	}
	if p.N != 6 || p.Pixels[0] != 10 || p.Pixels[2*4] != 20 || p.Pixels[5*4] != 30 || len(p.Pixels) != 24 {
		t.Errorf("pooled pixels wrong: N %d, %v", p.N, p.Pixels)
	}
	v, err := OffsetLabels(b, 4)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(v.Labels, p.Labels[2:5]) || &v.Pixels[0] != &b.Pixels[0] || b.Labels[0] != 2 {
		t.Errorf("OffsetLabels %v, want the pool's %v, pixels shared, the task's labels untouched", v.Labels, p.Labels[2:5])
	}
}

func TestPoolRefusesMismatch(t *testing.T) {
	_, err := Pool([]string{"a", "wide"}, []*Split{tinySplit(1, 2, 2, 0, 0), tinySplit(1, 2, 3, 0, 0)}, 4)
	if err == nil || !strings.Contains(err.Error(), "task wide") {
		t.Errorf("shapes: %v", err)
	}
	_, err = Pool([]string{"a", "b"}, []*Split{tinySplit(1, 2, 2, 0, 0), tinySplit(1, 2, 2, 5, 0)}, 4)
	if err == nil || !strings.Contains(err.Error(), "task b") {
		t.Errorf("label beyond the classes: %v", err)
	}
	if _, err := Pool(make([]string, 30), make([]*Split, 30), 10); err == nil {
		t.Error("300 classes pooled into bytes")
	}
}

func TestCheckTasks(t *testing.T) {
	if err := CheckTasks([]string{"mnist", "fashion-mnist", "mnist@rot90"}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tasks []string
		want  string
	}{
		{[]string{"mnist", "mnist"}, `"mnist" given twice`},
		{[]string{"mnist", "mnist@spin"}, `unknown transform "spin"`},
		{[]string{"mnist", "svhn"}, `unknown data spec "svhn"`},
		{[]string{"mnist"}, "at least two tasks"},
	} {
		err := CheckTasks(tc.tasks)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Count(err.Error(), "\n") > 0 {
			t.Errorf("%v: %v, want one line with %q", tc.tasks, err, tc.want)
		}
	}
}
