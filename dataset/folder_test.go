package dataset

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"path/filepath"
	"slices"
	"testing"
)

func pngBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func jpegBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func grayImage(w, h int, v uint8) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = v
	}
	return img
}

func TestLoadFolderGray(t *testing.T) {
	dir := t.TempDir()
	g := grayImage(4, 3, 0)
	g.SetGray(1, 2, color.Gray{Y: 200}) // x=1, y=2
	writeFile(t, filepath.Join(dir, "train", "zebra", "a.png"), pngBytes(t, g))
	writeFile(t, filepath.Join(dir, "train", "ant", "b.PNG"), pngBytes(t, grayImage(4, 3, 10)))
	writeFile(t, filepath.Join(dir, "train", "ant", "c.jpg"), jpegBytes(t, grayImage(4, 3, 128)))
	writeFile(t, filepath.Join(dir, "train", "ant", "notes.txt"), []byte("ignored"))
	writeFile(t, filepath.Join(dir, "test", "zebra", "d.jpeg"), jpegBytes(t, grayImage(4, 3, 50)))
	ds, err := Load("folder:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Classes, []string{"ant", "zebra"}) {
		t.Errorf("Classes = %q", ds.Classes)
	}
	tr, te := ds.Train, ds.Test
	if tr.N != 3 || te.N != 1 || tr.C != 1 || tr.H != 3 || tr.W != 4 || te.C != 1 {
		t.Fatalf("shapes: train %d %dx%dx%d, test %d C=%d", tr.N, tr.C, tr.H, tr.W, te.N, te.C)
	}
	if !slices.Equal(tr.Labels, []uint8{0, 1, 0}) || !slices.Equal(te.Labels, []uint8{1}) { // classes interleaved
		t.Errorf("labels %v %v", tr.Labels, te.Labels)
	}
	if img := tr.Image(1); img[2*4+1] != 200 || img[0] != 0 {
		t.Errorf("zebra image %v", img)
	}
	if tr.Image(0)[5] != 10 || te.Image(0)[0] < 48 || te.Image(0)[0] > 52 {
		t.Errorf("pixel values %d %d", tr.Image(0)[5], te.Image(0)[0])
	}
}

func TestLoadFolderColour(t *testing.T) {
	dir := t.TempDir()
	rgba := image.NewNRGBA(image.Rect(0, 0, 2, 2))
	for i := 0; i < 4; i++ {
		rgba.Set(i%2, i/2, color.NRGBA{R: 10, G: 20, B: 30, A: 128}) // alpha dropped, not blended
	}
	writeFile(t, filepath.Join(dir, "train", "red", "x.png"), pngBytes(t, rgba))
	writeFile(t, filepath.Join(dir, "train", "gray", "y.png"), pngBytes(t, grayImage(2, 2, 77)))
	writeFile(t, filepath.Join(dir, "test", "red", "z.png"), pngBytes(t, rgba))
	ds, err := LoadFolder(dir)
	if err != nil {
		t.Fatal(err)
	}
	tr := ds.Train
	if tr.C != 3 || tr.N != 2 || ds.Test.N != 1 {
		t.Fatalf("C=%d N=%d test N=%d", tr.C, tr.N, ds.Test.N)
	}
	if !slices.Equal(tr.Image(0), bytes.Repeat([]byte{77}, 12)) {
		t.Errorf("gray image in an RGB set: %v", tr.Image(0))
	}
	want := []uint8{10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30}
	if !slices.Equal(tr.Image(1), want) {
		t.Errorf("RGB image %v, want %v", tr.Image(1), want)
	}
}

func TestLoadFolderBad(t *testing.T) {
	t.Run("size mismatch", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "train", "a", "1.png"), pngBytes(t, grayImage(4, 4, 0)))
		writeFile(t, filepath.Join(dir, "train", "b", "2.png"), pngBytes(t, grayImage(4, 5, 0)))
		writeFile(t, filepath.Join(dir, "test", "a", "3.png"), pngBytes(t, grayImage(4, 4, 0)))
		_, err := LoadFolder(dir)
		mustFail(t, err, filepath.Join(dir, "train", "b", "2.png"), "4x5, want 4x4")
	})
	t.Run("undecodable", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "train", "a", "1.png"), []byte("not a png"))
		writeFile(t, filepath.Join(dir, "test", "a", "3.png"), pngBytes(t, grayImage(4, 4, 0)))
		_, err := LoadFolder(dir)
		mustFail(t, err, filepath.Join(dir, "train", "a", "1.png"), "cannot decode")
	})
	t.Run("unknown test class", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "train", "a", "1.png"), pngBytes(t, grayImage(4, 4, 0)))
		writeFile(t, filepath.Join(dir, "test", "b", "3.png"), pngBytes(t, grayImage(4, 4, 0)))
		_, err := LoadFolder(dir)
		mustFail(t, err, `class "b"`)
	})
	t.Run("no test folder", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "train", "a", "1.png"), pngBytes(t, grayImage(4, 4, 0)))
		_, err := LoadFolder(dir)
		mustFail(t, err, filepath.Join(dir, "test"))
	})
	t.Run("empty class", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "train", "a", "readme.txt"), nil)
		writeFile(t, filepath.Join(dir, "test", "a", "3.png"), pngBytes(t, grayImage(4, 4, 0)))
		_, err := LoadFolder(dir)
		mustFail(t, err, filepath.Join(dir, "train", "a"), "no .png")
	})
}
