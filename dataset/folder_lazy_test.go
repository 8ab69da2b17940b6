package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// lazyFolder writes a small folder data set of JPEGs and PNGs of different
// sizes, RGB and grey, with a val/ split and no test/:
//
//	train/cat:  a.jpg 300x200 RGB, b.png 40x50 grey
//	train/dog:  c.JPEG 64x64 grey, d.png 24x24 RGB, e.png 30x20 RGB
//	train/.git: ignored
//	val/dog:    f.png 24x24 RGB
func lazyFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "train", "cat", "a.jpg"), jpegBytes(t, noiseRGB(300, 200, 1)))
	writeFile(t, filepath.Join(dir, "train", "cat", "b.png"), pngBytes(t, noiseGray(40, 50, 2)))
	writeFile(t, filepath.Join(dir, "train", "cat", "notes.txt"), []byte("ignored"))
	writeFile(t, filepath.Join(dir, "train", "dog", "c.JPEG"), jpegBytes(t, noiseGray(64, 64, 3)))
	writeFile(t, filepath.Join(dir, "train", "dog", "d.png"), pngBytes(t, noiseRGB(24, 24, 4)))
	writeFile(t, filepath.Join(dir, "train", "dog", "e.png"), pngBytes(t, noiseRGB(30, 20, 5)))
	writeFile(t, filepath.Join(dir, "train", ".git", "x.png"), pngBytes(t, noiseRGB(4, 4, 6)))
	writeFile(t, filepath.Join(dir, "val", "dog", "f.png"), pngBytes(t, noiseRGB(24, 24, 7)))
	return dir
}

func identityNorm(c int) Normalization {
	n := Normalization{Mean: make([]float32, c), Std: make([]float32, c)}
	for i := range n.Std {
		n.Std[i] = 1
	}
	return n
}

// fillBytes is Fill with the identity normalisation, turned back to bytes.
func fillBytes(t *testing.T, s *Split, idx []int, aug *Augment, rng *rand.Rand) []uint8 {
	t.Helper()
	dst := make([]float32, len(idx)*s.ImageSize())
	if err := s.Fill(dst, nil, idx, identityNorm(s.C), aug, rng); err != nil {
		t.Fatal(err)
	}
	out := make([]uint8, len(dst))
	for i, v := range dst {
		out[i] = uint8(math.Round(float64(v) * 255))
	}
	return out
}

func TestOpenFolder(t *testing.T) {
	dir := lazyFolder(t)
	ds, err := OpenFolder(dir, TimmPreprocess(16, 16, 3))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Classes, []string{"cat", "dog"}) {
		t.Errorf("classes %q", ds.Classes)
	}
	tr, te := ds.Train, ds.Test
	if !tr.Lazy() || !te.Lazy() || len(tr.Pixels) != 0 {
		t.Errorf("not lazy: %v %v, %d pixels", tr.Lazy(), te.Lazy(), len(tr.Pixels))
	}
	if tr.N != 5 || te.N != 1 || tr.C != 3 || tr.H != 16 || tr.W != 16 || te.C != 3 {
		t.Fatalf("shapes: train %d %dx%dx%d, test %d", tr.N, tr.C, tr.H, tr.W, te.N)
	}
	if !slices.Equal(tr.Labels, []uint8{0, 1, 0, 1, 1}) || !slices.Equal(te.Labels, []uint8{1}) { // classes interleaved
		t.Errorf("labels %v %v", tr.Labels, te.Labels)
	}
	if got := filepath.Base(tr.Path(1)); got != "c.JPEG" {
		t.Errorf("image 1 is %s", got)
	}
	if te.Path(0) != filepath.Join(dir, "val", "dog", "f.png") {
		t.Errorf("test image %s", te.Path(0))
	}
	// Every image decodes, whatever its size and channels, with labels.
	dst := make([]float32, tr.N*tr.ImageSize())
	lab := make([]int32, tr.N)
	if err := tr.Fill(dst, lab, []int{0, 1, 2, 3, 4}, identityNorm(3), nil, nil); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(lab, []int32{0, 1, 0, 1, 1}) {
		t.Errorf("Fill labels %v", lab)
	}
	for i, v := range dst {
		if v < 0 || v > 1 {
			t.Fatalf("value %d is %v", i, v)
		}
	}

	// test/ wins over val/; with neither the test split is empty.
	writeFile(t, filepath.Join(dir, "test", "cat", "g.png"), pngBytes(t, noiseRGB(8, 8, 8)))
	if ds, err := OpenFolder(dir, TimmPreprocess(16, 16, 3)); err != nil || ds.Test.N != 1 || ds.Test.Labels[0] != 0 {
		t.Errorf("with test/: %v", err)
	}
	for _, d := range []string{"test", "val"} {
		if err := os.RemoveAll(filepath.Join(dir, d)); err != nil {
			t.Fatal(err)
		}
	}
	ds, err = OpenFolder(dir, TimmPreprocess(16, 16, 1))
	if err != nil {
		t.Fatal(err)
	}
	if ds.Test.N != 0 || !ds.Test.Lazy() || ds.Train.C != 1 {
		t.Errorf("no test folder: test N=%d, train C=%d", ds.Test.N, ds.Train.C)
	}
}

func TestOpenFolderBad(t *testing.T) {
	t.Run("preprocess", func(t *testing.T) {
		p := TimmPreprocess(0, 16, 2)
		_, err := OpenFolder(lazyFolder(t), p)
		mustFail(t, err, "size 0x16", "channels must be 1 or 3")
	})
	t.Run("no dir", func(t *testing.T) {
		_, err := OpenFolder(filepath.Join(t.TempDir(), "nope"), TimmPreprocess(16, 16, 3))
		mustFail(t, err, "nope", "no such directory")
	})
	t.Run("unknown test class", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "train", "a", "1.png"), pngBytes(t, grayImage(4, 4, 0)))
		writeFile(t, filepath.Join(dir, "val", "b", "3.png"), pngBytes(t, grayImage(4, 4, 0)))
		_, err := OpenFolder(dir, TimmPreprocess(16, 16, 3))
		mustFail(t, err, `class "b"`)
	})
	t.Run("empty class", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "train", "a", "readme.txt"), nil)
		_, err := OpenFolder(dir, TimmPreprocess(16, 16, 3))
		mustFail(t, err, filepath.Join(dir, "train", "a"), "no .png")
	})
	t.Run("no classes", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.MkdirAll(filepath.Join(dir, "train"), 0o755); err != nil {
			t.Fatal(err)
		}
		_, err := OpenFolder(dir, TimmPreprocess(16, 16, 3))
		mustFail(t, err, "no class folders")
	})
}

// TestFillLazyIdentity: an image already of the target size, CropPct 1, is
// resized by the identity, so Fill gives exactly (v/255 - mean)/std.
func TestFillLazyIdentity(t *testing.T) {
	dir := t.TempDir()
	rgb, gray := noiseRGB(8, 6, 11), noiseGray(8, 6, 12)
	writeFile(t, filepath.Join(dir, "train", "a", "rgb.png"), pngBytes(t, rgb))
	writeFile(t, filepath.Join(dir, "train", "a", "gray.png"), pngBytes(t, gray))
	norm := Normalization{Mean: []float32{0.1, 0.5, 0.9}, Std: []float32{0.2, 0.3, 0.4}}
	for _, resize := range []string{ResizeShorter, ResizeExact} {
		for _, interp := range []string{"bilinear", "bicubic"} {
			p := TimmPreprocess(6, 8, 3)
			p.CropPct, p.Resize, p.Interpolation = 1, resize, interp
			ds, err := OpenFolder(dir, p)
			if err != nil {
				t.Fatal(err)
			}
			dst := make([]float32, 2*3*6*8)
			if err := ds.Train.Fill(dst, nil, []int{0, 1}, norm, nil, nil); err != nil { // gray.png, rgb.png
				t.Fatal(err)
			}
			for c := 0; c < 3; c++ {
				for y := 0; y < 6; y++ {
					for x := 0; x < 8; x++ {
						px := rgb.NRGBAAt(x, y)
						v := [3]uint8{px.R, px.G, px.B}[c]
						mean, std := float64(norm.Mean[c]), float64(norm.Std[c])
						wantRGB := float32((float64(v)/255 - mean) / std)
						wantGray := float32((float64(gray.GrayAt(x, y).Y)/255 - mean) / std) // replicated
						k := c*48 + y*8 + x
						if dst[k] != wantGray || dst[144+k] != wantRGB {
							t.Fatalf("%s %s: channel %d (%d,%d): gray %v want %v, rgb %v want %v", resize, interp, c, x, y, dst[k], wantGray, dst[144+k], wantRGB)
						}
					}
				}
			}
		}
	}
	// RGB to grey is PIL's L: (19595 R + 38470 G + 7471 B + 0x8000) >> 16.
	p := TimmPreprocess(6, 8, 1)
	p.CropPct = 1
	ds, err := OpenFolder(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	got := fillBytes(t, ds.Train, []int{1}, nil, nil)
	for y := 0; y < 6; y++ {
		for x := 0; x < 8; x++ {
			px := rgb.NRGBAAt(x, y)
			want := uint8((19595*uint32(px.R) + 38470*uint32(px.G) + 7471*uint32(px.B) + 0x8000) >> 16)
			if got[y*8+x] != want {
				t.Fatalf("grey (%d,%d) = %d, want %d", x, y, got[y*8+x], want)
			}
		}
	}
}

func TestEvalGeometry(t *testing.T) {
	p := TimmPreprocess(224, 224, 3) // crop_pct 0.9: resize to 248
	for _, c := range []struct{ w, h, rw, rh int }{
		{300, 200, 372, 248}, {200, 300, 248, 372}, {248, 248, 248, 248}, {100, 100, 248, 248}, {1000, 999, 248, 248},
	} {
		if rw, rh := p.evalSize(c.w, c.h); rw != c.rw || rh != c.rh {
			t.Errorf("%dx%d: resized to %dx%d, want %dx%d", c.w, c.h, rw, rh, c.rw, c.rh)
		}
	}
	p.Resize = ResizeExact
	if rw, rh := p.evalSize(300, 200); rw != 248 || rh != 248 {
		t.Errorf("exact: %dx%d", rw, rh)
	}
	q := TimmPreprocess(100, 200, 3) // not square: both sides cover floor(side/0.9)
	q.CropPct = 1
	if rw, rh := q.evalSize(400, 400); rw != 200 || rh != 200 {
		t.Errorf("keep ratio: %dx%d", rw, rh)
	}
	// torchvision's CenterCrop rounds half to even: (h - H) / 2.
	for _, c := range [][3]int{{10, 9, 0}, {12, 9, 2}, {248, 224, 12}, {9, 9, 0}} {
		if got := centreOffset(c[0], c[1]); got != c[2] {
			t.Errorf("centreOffset(%d, %d) = %d, want %d", c[0], c[1], got, c[2])
		}
	}
}

func TestFillLazyDeterministic(t *testing.T) {
	ds, err := OpenFolder(lazyFolder(t), TimmPreprocess(32, 32, 3))
	if err != nil {
		t.Fatal(err)
	}
	idx := []int{4, 0, 2, 1, 3, 0, 0, 2}
	aug := &Augment{RandomResizedCrop: true}
	run := func(procs int, seed uint64) ([]uint8, []uint8) {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
		return fillBytes(t, ds.Train, idx, aug, rand.New(rand.NewPCG(seed, 0))), fillBytes(t, ds.Train, idx, nil, nil)
	}
	a1, e1 := run(1, 5)
	a2, e2 := run(2, 5)
	a4, _ := run(4, 5)
	if !slices.Equal(a1, a2) || !slices.Equal(a1, a4) {
		t.Error("the same rng gives different augmented batches with GOMAXPROCS 1, 2 and 4")
	}
	if !slices.Equal(e1, e2) {
		t.Error("evaluation batches differ with GOMAXPROCS")
	}
	if b, _ := run(2, 6); slices.Equal(a1, b) {
		t.Error("different seeds, same batch")
	}
	size := ds.Train.ImageSize()
	if !slices.Equal(e1[size:2*size], e1[5*size:6*size]) { // image 0 twice, evaluation transform
		t.Error("the evaluation transform of one image differs between two slots")
	}
	if slices.Equal(a1[5*size:6*size], a1[6*size:7*size]) {
		t.Error("two augmented copies of one image are identical")
	}
}

func TestCropParams(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	scale, ratio := [2]float64{0.08, 1}, [2]float64{3. / 4, 4. / 3}
	u := make([]float64, drawsPerImage)
	var fracSum float64
	const n = 4000
	for i := 0; i < n; i++ {
		for k := range u {
			u[k] = rng.Float64()
		}
		w, h := 300, 200
		left, top, cw, ch := cropParams(w, h, scale, ratio, u)
		if left < 0 || top < 0 || cw <= 0 || ch <= 0 || left+cw > w || top+ch > h {
			t.Fatalf("crop %d,%d %dx%d outside %dx%d", left, top, cw, ch, w, h)
		}
		frac := float64(cw*ch) / float64(w*h)
		if frac < 0.08*0.95 || frac > 1 {
			t.Fatalf("area fraction %v outside the scale %v", frac, scale)
		}
		if ar := float64(cw) / float64(ch); ar < 0.75*0.95 || ar > 4./3*1.05 {
			t.Fatalf("aspect %v outside the ratio %v", ar, ratio)
		}
		fracSum += frac
	}
	// Accepted attempts favour small areas (a large one often does not fit):
	// the mean lies well inside the scale range.
	if mean := fracSum / n; mean < 0.3 || mean > 0.6 {
		t.Errorf("mean area fraction %v", mean)
	}
	// The fallback (every attempt rejected, u = 1 for the area): torchvision's centre crop, ratio clamped.
	for k := range u {
		u[k] = 1
	}
	if l, tp, cw, ch := cropParams(300, 100, [2]float64{1, 1}, ratio, u); cw != 133 || ch != 100 || l != 83 || tp != 0 {
		t.Errorf("wide fallback: %d,%d %dx%d", l, tp, cw, ch)
	}
	if l, tp, cw, ch := cropParams(100, 300, [2]float64{1, 1}, ratio, u); cw != 100 || ch != 133 || l != 0 || tp != 83 {
		t.Errorf("tall fallback: %d,%d %dx%d", l, tp, cw, ch)
	}
	if l, tp, cw, ch := cropParams(100, 90, [2]float64{1, 1}, [2]float64{2, 3}, u); cw != 100 || ch != 50 || l != 0 || tp != 20 {
		t.Errorf("ratio fallback: %d,%d %dx%d", l, tp, cw, ch)
	}
}

// TestFillLazyFlips: with the whole image as the crop (scale and ratio 1 on
// a square image) the augmented image is the image or its mirror, the
// mirror about FlipP of the time.
func TestFillLazyFlips(t *testing.T) {
	dir := t.TempDir()
	img := noiseRGB(12, 12, 21)
	writeFile(t, filepath.Join(dir, "train", "a", "x.png"), pngBytes(t, img))
	p := TimmPreprocess(12, 12, 3)
	p.Scale, p.Ratio, p.CropPct = [2]float64{1, 1}, [2]float64{1, 1}, 1
	ds, err := OpenFolder(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	plain := fillBytes(t, ds.Train, []int{0}, nil, nil)
	mirror := slices.Clone(plain)
	for r := 0; r < 3*12; r++ {
		slices.Reverse(mirror[r*12 : (r+1)*12])
	}
	const n = 400
	idx := make([]int, n)
	out := fillBytes(t, ds.Train, idx, &Augment{RandomResizedCrop: true}, rand.New(rand.NewPCG(1, 1)))
	flips := 0
	for i := 0; i < n; i++ {
		got := out[i*432 : (i+1)*432]
		switch {
		case slices.Equal(got, mirror):
			flips++
		case !slices.Equal(got, plain):
			t.Fatalf("draw %d is neither the image nor its mirror", i)
		}
	}
	if flips < n/2-60 || flips > n/2+60 {
		t.Errorf("%d flips in %d draws with FlipP 0.5", flips, n)
	}
	p.FlipP = 0
	ds, _ = OpenFolder(dir, p)
	if out := fillBytes(t, ds.Train, idx[:20], &Augment{RandomResizedCrop: true}, rand.New(rand.NewPCG(1, 1))); !slices.Equal(out[:432], plain) {
		t.Error("FlipP 0 flipped")
	}
}

func TestFillLazyReadError(t *testing.T) {
	dir := lazyFolder(t)
	full := jpegBytes(t, noiseRGB(40, 40, 9))
	bad := filepath.Join(dir, "train", "cat", "broken.jpg")
	writeFile(t, bad, full[:len(full)/2])
	writeFile(t, filepath.Join(dir, "train", "cat", "empty.png"), nil)
	ds, err := OpenFolder(dir, TimmPreprocess(16, 16, 3))
	if err != nil {
		t.Fatal(err) // scanning does not decode
	}
	tr := ds.Train
	broken := slices.Index(tr.files.paths, bad)
	for _, aug := range []*Augment{nil, {RandomResizedCrop: true}} {
		dst := make([]float32, 3*tr.ImageSize())
		err := tr.Fill(dst, nil, []int{0, broken, 1}, identityNorm(3), aug, rand.New(rand.NewPCG(1, 1)))
		var re *ReadError
		if !errors.As(err, &re) || re.Path != bad {
			t.Fatalf("error %v, want a *ReadError naming %s", err, bad)
		}
		mustFail(t, err, bad)
	}
	// The one-image-per-file errors: missing and empty files.
	empty := slices.Index(tr.files.paths, filepath.Join(dir, "train", "cat", "empty.png"))
	if err := tr.Fill(make([]float32, tr.ImageSize()), nil, []int{empty}, identityNorm(3), nil, nil); err == nil {
		t.Error("an empty file decoded")
	}
	if err := os.Remove(tr.Path(0)); err != nil {
		t.Fatal(err)
	}
	err = tr.Fill(make([]float32, tr.ImageSize()), nil, []int{0}, identityNorm(3), nil, nil)
	var re *ReadError
	if !errors.As(err, &re) || re.Path != tr.Path(0) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// MustFill panics with the *ReadError; ComputeNormalization too, MeasureNormalization returns it.
	func() {
		defer func() {
			if r, ok := recover().(*ReadError); !ok || r.Path != tr.Path(0) {
				t.Errorf("MustFill panicked with %v", r)
			}
		}()
		tr.MustFill(make([]float32, tr.ImageSize()), nil, []int{0}, identityNorm(3))
	}()
	if _, err := MeasureNormalization(tr); !errors.As(err, &re) {
		t.Errorf("MeasureNormalization: %v", err)
	}
}

func TestLazySplitOperations(t *testing.T) {
	ds, err := OpenFolder(lazyFolder(t), TimmPreprocess(16, 16, 3))
	if err != nil {
		t.Fatal(err)
	}
	tr := ds.Train
	all := fillBytes(t, tr, []int{0, 1, 2, 3, 4}, nil, nil)
	size := tr.ImageSize()
	image := func(i int) []uint8 { return all[i*size : (i+1)*size] }

	sub := tr.Subset([]int{3, 0})
	if !sub.Lazy() || sub.N != 2 || !slices.Equal(sub.Labels, []uint8{1, 0}) || sub.Path(0) != tr.Path(3) {
		t.Fatalf("Subset: N=%d labels %v", sub.N, sub.Labels)
	}
	if got := fillBytes(t, sub, []int{0, 1}, nil, nil); !slices.Equal(got[:size], image(3)) || !slices.Equal(got[size:], image(0)) {
		t.Error("Subset's images differ")
	}
	lim := tr.Limit(2)
	if !lim.Lazy() || lim.N != 2 || !slices.Equal(lim.Labels, []uint8{0, 1}) || !slices.Equal(fillBytes(t, lim, []int{1}, nil, nil), image(1)) {
		t.Errorf("Limit: N=%d labels %v", lim.N, lim.Labels)
	}
	if tr.Limit(0) != tr || tr.Limit(9) != tr {
		t.Error("Limit without effect copied")
	}
	rest, val, err := SplitValidation(tr, 0.4, 1)
	if err != nil {
		t.Fatal(err)
	}
	if rest.N != 3 || val.N != 2 || !rest.Lazy() || !val.Lazy() {
		t.Fatalf("SplitValidation: %d + %d", rest.N, val.N)
	}
	seen := map[string]bool{}
	for _, s := range []*Split{rest, val} {
		for i := 0; i < s.N; i++ {
			j := slices.Index(tr.files.paths, s.Path(i))
			if j < 0 || seen[s.Path(i)] || s.Labels[i] != tr.Labels[j] {
				t.Errorf("SplitValidation image %s", s.Path(i))
			}
			seen[s.Path(i)] = true
		}
	}
	if r, v, err := SplitValidation(tr, 0, 1); err != nil || r != tr || v.N != 0 || !v.Lazy() || v.Labels == nil {
		t.Errorf("SplitValidation 0: %v", err)
	}
	off, err := OffsetLabels(tr, 10)
	if err != nil || !off.Lazy() || !slices.Equal(off.Labels, []uint8{10, 11, 10, 11, 11}) || !slices.Equal(fillBytes(t, off, []int{4}, nil, nil), image(4)) {
		t.Errorf("OffsetLabels: %v %v", off.Labels, err)
	}

	// What needs pixels refuses a lazy split.
	if _, err := Pool([]string{"a", "b"}, []*Split{tr, tr}, 2); err == nil || !strings.Contains(err.Error(), "OpenFolder") {
		t.Errorf("Pool: %v", err)
	}
	if _, err := TransformSplit(tr, "rot90"); err == nil || !strings.Contains(err.Error(), "OpenFolder") {
		t.Errorf("TransformSplit: %v", err)
	}
	func() {
		defer func() {
			if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "lazy") {
				t.Errorf("Image: %v", r)
			}
		}()
		tr.Image(0)
	}()
	dst := make([]float32, size)
	if err := tr.Fill(dst, nil, []int{0}, identityNorm(3), &Augment{MaxShift: 2}, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("MaxShift on a lazy split accepted")
	}
	mem := &Split{N: 1, C: 3, H: 16, W: 16, Pixels: make([]uint8, size), Labels: []uint8{0}}
	if err := mem.Fill(dst, nil, []int{0}, identityNorm(3), &Augment{RandomResizedCrop: true}, rand.New(rand.NewPCG(1, 1))); err == nil {
		t.Error("RandomResizedCrop on a split in memory accepted")
	}
}

// TestLazyNormalization: ComputeNormalization on a lazy split measures the
// evaluation transform of images floor(i*N/k), k = min(N, 1000).
func TestLazyNormalization(t *testing.T) {
	dir := t.TempDir()
	const n = 1100
	value := func(i int) uint8 { return uint8(i * 37 % 256) }
	for i := 0; i < n; i++ {
		writeFile(t, filepath.Join(dir, "train", "a", fmt.Sprintf("%04d.png", i)), pngBytes(t, grayImage(3, 2, value(i))))
	}
	p := TimmPreprocess(2, 2, 1)
	ds, err := OpenFolder(dir, p)
	if err != nil {
		t.Fatal(err)
	}
	got := ComputeNormalization(ds.Train)
	var sum, sq float64
	for i := 0; i < 1000; i++ {
		v := float64(value(i*n/1000)) / 255
		sum += v
		sq += v * v
	}
	mean := sum / 1000
	std := math.Sqrt(sq/1000 - mean*mean)
	if math.Abs(float64(got.Mean[0])-mean) > 1e-6 || math.Abs(float64(got.Std[0])-std) > 1e-5 {
		t.Errorf("mean %v std %v, want %v %v", got.Mean[0], got.Std[0], mean, std)
	}
	// Below 1000 images every image counts, and the RGB statistics are the
	// in-memory ones of Fill's evaluation output.
	ds, err = OpenFolder(lazyFolder(t), TimmPreprocess(16, 16, 3))
	if err != nil {
		t.Fatal(err)
	}
	raw := fillBytes(t, ds.Train, []int{0, 1, 2, 3, 4}, nil, nil)
	want := ComputeNormalization(&Split{N: 5, C: 3, H: 16, W: 16, Pixels: raw})
	got = ComputeNormalization(ds.Train)
	if !slices.Equal(got.Mean, want.Mean) || !slices.Equal(got.Std, want.Std) {
		t.Errorf("lazy %v, in memory %v", got, want)
	}
}

func pngBytesTB(tb testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytesTB(tb testing.TB, img image.Image) []byte {
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 90}); err != nil {
		tb.Fatal(err)
	}
	return b.Bytes()
}

// FuzzOpenFolderFile: whatever bytes an image file holds, Fill decodes it
// or returns a *ReadError; it never panics.
func FuzzOpenFolderFile(f *testing.F) {
	for _, seed := range []func() []byte{
		func() []byte { return pngBytesTB(f, noiseRGB(9, 7, 1)) },
		func() []byte { return pngBytesTB(f, noiseGray(3, 30, 2)) },
		func() []byte { return jpegBytesTB(f, noiseRGB(17, 5, 3)) },
		func() []byte { b := jpegBytesTB(f, noiseRGB(17, 5, 3)); return b[:len(b)/2] },
		func() []byte {
			return pngBytesTB(f, image.NewPaletted(image.Rect(0, 0, 4, 4), color.Palette{color.Black, color.White}))
		},
		func() []byte { return nil },
	} {
		f.Add(seed(), false)
		f.Add(seed(), true)
	}
	old := maxDecodePixels
	maxDecodePixels = 1 << 20
	f.Cleanup(func() { maxDecodePixels = old })
	// One folder for every input (a worker runs its inputs one at a time):
	// the files are rewritten, the split is reused.
	dir := f.TempDir()
	files := []string{filepath.Join(dir, "train", "a", "x.png"), filepath.Join(dir, "train", "a", "y.jpg")}
	for _, p := range files {
		writeFile(f, p, nil)
	}
	ds, err := OpenFolder(dir, TimmPreprocess(8, 8, 3))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte, augment bool) {
		for _, p := range files {
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		var aug *Augment
		if augment {
			aug = &Augment{RandomResizedCrop: true}
		}
		dst := make([]float32, 2*ds.Train.ImageSize())
		if err := ds.Train.Fill(dst, nil, []int{0, 1}, identityNorm(3), aug, rand.New(rand.NewPCG(1, 1))); err != nil {
			var re *ReadError
			if !errors.As(err, &re) {
				t.Fatalf("error %v is not a *ReadError", err)
			}
			return
		}
		for _, v := range dst {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("value %v", v)
			}
		}
	})
}
