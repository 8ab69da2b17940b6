package dataset

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// img23 is the 2x3 image
//
//	1 2 3
//	4 5 6
var img23 = []uint8{1, 2, 3, 4, 5, 6}

func TestTransformsPixelByPixel(t *testing.T) {
	for _, c := range []struct {
		name string
		h, w int
		want []uint8
	}{
		// A quarter turn counter-clockwise, as numpy.rot90: the last column becomes the first row.
		{"rot90", 3, 2, []uint8{3, 6, 2, 5, 1, 4}},
		{"rot180", 2, 3, []uint8{6, 5, 4, 3, 2, 1}},
		// A quarter turn clockwise: the first column, read bottom-up, becomes the first row.
		{"rot270", 3, 2, []uint8{4, 1, 5, 2, 6, 3}},
		{"transpose", 3, 2, []uint8{1, 4, 2, 5, 3, 6}},
		{"flip", 2, 3, []uint8{3, 2, 1, 6, 5, 4}},
		{"vflip", 2, 3, []uint8{4, 5, 6, 1, 2, 3}},
		{"invert", 2, 3, []uint8{254, 253, 252, 251, 250, 249}},
	} {
		in := slices.Clone(img23)
		got, h, w, err := TransformImage(in, 1, 2, 3, c.name)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if h != c.h || w != c.w || !bytes.Equal(got, c.want) {
			t.Errorf("%s of 2x3 [1 2 3; 4 5 6] = %dx%d %v, want %dx%d %v", c.name, h, w, got, c.h, c.w, c.want)
		}
		if !bytes.Equal(in, img23) {
			t.Errorf("%s changed its input: %v", c.name, in)
		}
	}
	// Chains apply left to right: rot90 then invert, and rot90 then flip is the transpose.
	got, h, w, _ := TransformImage(img23, 1, 2, 3, "rot90", "invert")
	if h != 3 || w != 2 || !bytes.Equal(got, []uint8{252, 249, 253, 250, 254, 251}) {
		t.Errorf("rot90@invert = %dx%d %v", h, w, got)
	}
	got, _, _, _ = TransformImage(img23, 1, 2, 3, "rot90", "vflip")
	if want := []uint8{1, 4, 2, 5, 3, 6}; !bytes.Equal(got, want) {
		t.Errorf("rot90@vflip = %v, want the transpose %v", got, want)
	}
	// Every channel is transformed alike.
	two := append(slices.Clone(img23), 10, 20, 30, 40, 50, 60)
	got, _, _, _ = TransformImage(two, 2, 2, 3, "rot270")
	if want := []uint8{4, 1, 5, 2, 6, 3, 40, 10, 50, 20, 60, 30}; !bytes.Equal(got, want) {
		t.Errorf("rot270 of 2 channels = %v, want %v", got, want)
	}
}

// patternSplit is n images of c x h x w with distinct-looking pixels and labels.
func patternSplit(n, c, h, w int) *Split {
	s := &Split{Pixels: make([]uint8, n*c*h*w), Labels: make([]uint8, n), N: n, C: c, H: h, W: w}
	for i := range s.Pixels {
		s.Pixels[i] = uint8(i*37 + i/7)
	}
	for i := range s.Labels {
		s.Labels[i] = uint8(i % 10)
	}
	return s
}

func TestTransformIdentities(t *testing.T) {
	s := patternSplit(3, 2, 4, 5)
	for _, chain := range [][]string{
		{"rot90", "rot90", "rot90", "rot90"},
		{"rot270", "rot270", "rot270", "rot270"},
		{"rot180", "rot180"},
		{"flip", "flip"},
		{"vflip", "vflip"},
		{"invert", "invert"},
		{"transpose", "transpose"},
		{"rot90", "rot270"},
		{"rot90", "rot90", "rot180"},
		{"flip", "vflip", "rot180"},
	} {
		got, err := TransformSplit(s, chain...)
		if err != nil {
			t.Fatal(err)
		}
		if got.N != s.N || got.C != s.C || got.H != s.H || got.W != s.W || !bytes.Equal(got.Pixels, s.Pixels) || !bytes.Equal(got.Labels, s.Labels) {
			t.Errorf("%s is not the identity on 4x5 images", strings.Join(chain, "@"))
		}
	}
	// Non-identities stay non-identities (the pattern has no symmetry).
	for _, n := range TransformNames() {
		got, _ := TransformSplit(s, n)
		if bytes.Equal(got.Pixels, s.Pixels) {
			t.Errorf("%s left a 4x5 pattern unchanged", n)
		}
	}
}

func TestTransformSplitIsPerImage(t *testing.T) {
	s := patternSplit(4, 3, 2, 5)
	orig := slices.Clone(s.Pixels)
	for _, chain := range [][]string{{"rot90"}, {"rot180"}, {"rot270"}, {"transpose"}, {"flip"}, {"vflip"}, {"invert"}, {"rot90", "invert", "flip"}} {
		got, err := TransformSplit(s, chain...)
		if err != nil {
			t.Fatal(err)
		}
		wantH, wantW := 2, 5
		if len(chain) == 1 && (chain[0] == "rot90" || chain[0] == "rot270" || chain[0] == "transpose") || len(chain) == 3 {
			wantH, wantW = 5, 2
		}
		if got.N != 4 || got.C != 3 || got.H != wantH || got.W != wantW || len(got.Pixels) != len(s.Pixels) {
			t.Fatalf("%v: geometry N=%d C=%d H=%d W=%d, want 4x3x%dx%d", chain, got.N, got.C, got.H, got.W, wantH, wantW)
		}
		if !bytes.Equal(got.Labels, s.Labels) {
			t.Errorf("%v changed the labels", chain)
		}
		for i := 0; i < s.N; i++ {
			one, h, w, err := TransformImage(s.Image(i), s.C, s.H, s.W, chain...)
			if err != nil || h != got.H || w != got.W || !bytes.Equal(one, got.Image(i)) {
				t.Errorf("%v: image %d of the split differs from the image transformed alone", chain, i)
			}
		}
		if !bytes.Equal(s.Pixels, orig) {
			t.Fatalf("%v changed its input split", chain)
		}
	}
	// An empty split stays empty, with its geometry transformed.
	e, err := TransformSplit(&Split{Pixels: []uint8{}, Labels: []uint8{}, N: 0, C: 1, H: 2, W: 3}, "rot90")
	if err != nil || e.N != 0 || e.H != 3 || e.W != 2 || e.Pixels == nil {
		t.Errorf("empty split: %+v, %v", e, err)
	}
}

func TestParseDataSpec(t *testing.T) {
	for _, c := range []struct {
		spec, base string
		ts         []string
	}{
		{"", "", nil},
		{"mnist", "mnist", nil},
		{"mnist@rot90", "mnist", []string{"rot90"}},
		{"fashion-mnist@invert", "fashion-mnist", []string{"invert"}},
		{"mnist@rot90@invert", "mnist", []string{"rot90", "invert"}},
		{"idx:/data/x@transpose", "idx:/data/x", []string{"transpose"}},
		{"idx:/data/a@b/c@flip", "idx:/data/a@b/c", []string{"flip"}},
		{"idx:/data/a@b/", "idx:/data/a@b/", nil},
		{"folder:rel@v/@vflip@rot180", "folder:rel@v/", []string{"vflip", "rot180"}},
		{"cifar10:d@rot270", "cifar10:d", []string{"rot270"}},
	} {
		d, err := ParseDataSpec(c.spec)
		if err != nil {
			t.Errorf("%q: %v", c.spec, err)
			continue
		}
		if d.Base != c.base || !slices.Equal(d.Transforms, c.ts) || d.String() != c.spec {
			t.Errorf("%q parsed as %+v (prints %q), want base %q transforms %v", c.spec, d, d.String(), c.base, c.ts)
		}
	}
	for _, c := range []struct{ spec, want string }{
		{"mnist@rot45", `dataset: unknown transform "rot45" in data spec "mnist@rot45": want rot90, rot180, rot270, transpose, flip, vflip or invert`},
		{"mnist@rot90@Invert", `unknown transform "Invert" in data spec "mnist@rot90@Invert"`},
		{"mnist@", `unknown transform "" in data spec "mnist@"`},
		{"idx:/data/run@2", `unknown transform "2" in data spec "idx:/data/run@2"`},
		{"@rot90", `data spec "@rot90" names no data set before @rot90`},
		{"mnits@rot90", `unknown data spec "mnits@rot90"`},
		{"idx:@rot90", `data spec "idx:@rot90" names no directory`},
		{"mnist:x", `unknown data spec "mnist:x"`},
	} {
		_, err := ParseDataSpec(c.spec)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: error %v, want one line containing %q", c.spec, err, c.want)
		}
		if _, lerr := Load(c.spec); lerr == nil || lerr.Error() != err.Error() {
			t.Errorf("%q: Load says %v, ParseDataSpec %v", c.spec, lerr, err)
		}
	}
}

func TestLoadDerivedTask(t *testing.T) {
	dir := t.TempDir()
	// 3 training and 2 test images of 2x3, and their labels.
	for _, f := range []struct {
		name string
		data []byte
	}{
		{"train-images-idx3-ubyte", idxImages(3, 2, 3)},
		{"train-labels-idx1-ubyte", idxLabels(0, 1, 2)},
		{"t10k-images-idx3-ubyte", idxImages(2, 2, 3)},
		{"t10k-labels-idx1-ubyte", idxLabels(2, 0)},
	} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	base, err := Load("idx:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	spec := "idx:" + dir + "@rot90@invert"
	ds, err := Load(spec)
	if err != nil {
		t.Fatal(err)
	}
	if ds.Name != spec || !slices.Equal(ds.Classes, base.Classes) {
		t.Errorf("name %q classes %v, want %q %v", ds.Name, ds.Classes, spec, base.Classes)
	}
	for _, p := range []struct{ got, base *Split }{{ds.Train, base.Train}, {ds.Test, base.Test}} {
		want, _ := TransformSplit(p.base, "rot90", "invert")
		if p.got.H != 3 || p.got.W != 2 || !bytes.Equal(p.got.Pixels, want.Pixels) || !bytes.Equal(p.got.Labels, p.base.Labels) {
			t.Errorf("split %dx%d %v labels %v, want 3x2 %v labels %v", p.got.H, p.got.W, p.got.Pixels, p.got.Labels, want.Pixels, p.base.Labels)
		}
	}
	// The statistics are the transformed training split's: invert mirrors the mean.
	n0, n1 := ComputeNormalization(base.Train), ComputeNormalization(ds.Train)
	if d := n0.Mean[0] + n1.Mean[0] - 1; d > 1e-6 || d < -1e-6 || n0.Std[0] != n1.Std[0] {
		t.Errorf("normalisation %+v of the inverted split, base %+v: want mean 1-m, the same std", n1, n0)
	}
}

func FuzzParseDataSpec(f *testing.F) {
	for _, s := range []string{"", "mnist", "mnist@rot90", "mnist@rot90@invert", "fashion-mnist@transpose",
		"idx:/a@b/c@flip", "idx:", "@", "mnist@rot45", "folder:x@/@vflip", "cifar10:@", "a:b:c@rot180"} {
		f.Add(s)
	}
	known := TransformNames()
	f.Fuzz(func(t *testing.T, spec string) {
		d, err := ParseDataSpec(spec)
		if err != nil {
			if strings.Contains(err.Error(), "\n") && !strings.Contains(spec, "\n") {
				t.Fatalf("%q: a multi-line error: %v", spec, err)
			}
			return
		}
		if d.String() != spec {
			t.Fatalf("%q parsed as %+v prints back as %q", spec, d, d.String())
		}
		for _, n := range d.Transforms {
			if !slices.Contains(known, n) {
				t.Fatalf("%q: accepted unknown transform %q", spec, n)
			}
		}
		again, err := ParseDataSpec(d.String())
		if err != nil || again.Base != d.Base || !slices.Equal(again.Transforms, d.Transforms) {
			t.Fatalf("%q: reparsed as %+v, %v", spec, again, err)
		}
	})
}
