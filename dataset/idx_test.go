package dataset

import (
	"bytes"
	"io"
	"path/filepath"
	"slices"
	"testing"
)

func TestLoadIDXRoundTrip(t *testing.T) {
	for _, gz := range []bool{false, true} {
		dir := validIDXFiles().write(t, gz)
		ds, err := Load("idx:" + dir)
		if err != nil {
			t.Fatalf("gz=%v: %v", gz, err)
		}
		if ds.Name != "idx:"+dir {
			t.Errorf("Name = %q", ds.Name)
		}
		if want := []string{"0", "1", "2"}; !slices.Equal(ds.Classes, want) {
			t.Errorf("Classes = %q, want %q (max label + 1)", ds.Classes, want)
		}
		tr, te := ds.Train, ds.Test
		if tr.N != 5 || tr.C != 1 || tr.H != 3 || tr.W != 4 || te.N != 2 || te.H != 3 || te.W != 4 {
			t.Fatalf("shapes: train %d %dx%dx%d, test %d %dx%dx%d", tr.N, tr.C, tr.H, tr.W, te.N, te.C, te.H, te.W)
		}
		if !bytes.Equal(tr.Pixels, idxImages(5, 3, 4)[16:]) || !bytes.Equal(te.Pixels, idxImages(2, 3, 4)[16:]) {
			t.Error("pixels differ from the files")
		}
		if !slices.Equal(tr.Labels, []uint8{0, 1, 2, 1, 0}) || !slices.Equal(te.Labels, []uint8{2, 2}) {
			t.Errorf("labels %v %v", tr.Labels, te.Labels)
		}
	}
}

func TestLoadIDXPrefersEitherFileForm(t *testing.T) {
	// One file raw, the others gzipped, and a dotted name: all accepted.
	f := validIDXFiles()
	dir := f.write(t, true)
	writeFile(t, filepath.Join(dir, "t10k-labels-idx1-ubyte"), f.testLabels)
	ds, err := LoadIDX(dir, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Classes) != 10 || ds.Test.N != 2 {
		t.Errorf("classes %d, test N %d", len(ds.Classes), ds.Test.N)
	}
}

func TestLoadIDXBadFiles(t *testing.T) {
	header := func(b []byte) []byte { return b[:16] }
	cases := []struct {
		name    string
		edit    func(*idxFiles)
		classes int
		want    []string
	}{
		{"truncated images", func(f *idxFiles) { f.trainImages = f.trainImages[:len(f.trainImages)-5] }, 0,
			[]string{"train-images-idx3-ubyte", "truncated: want 60 image bytes, got 55"}},
		{"truncated header", func(f *idxFiles) { f.testImages = header(f.testImages)[:9] }, 0,
			[]string{"t10k-images-idx3-ubyte", "truncated", "header"}},
		{"empty labels", func(f *idxFiles) { f.trainLabels = nil }, 0, []string{"train-labels-idx1-ubyte", "empty"}},
		{"truncated labels", func(f *idxFiles) { f.testLabels = f.testLabels[:9] }, 0,
			[]string{"t10k-labels-idx1-ubyte", "truncated: want 2 label bytes, got 1"}},
		{"wrong image magic", func(f *idxFiles) { f.trainImages[3] = 0x01 }, 0, []string{"train-images-idx3-ubyte", "bad magic 0x00000801"}},
		{"labels as images", func(f *idxFiles) { f.testImages = f.testLabels }, 0, []string{"t10k-images", "magic"}},
		{"wrong label magic", func(f *idxFiles) { f.trainLabels[2] = 0x0D }, 0, []string{"train-labels-idx1-ubyte", "bad magic"}},
		{"count mismatch", func(f *idxFiles) { f.trainLabels = idxLabels(0, 1, 2, 1) }, 0,
			[]string{"train-images-idx3-ubyte", "has 5 images", "train-labels-idx1-ubyte", "has 4 labels"}},
		{"label out of range", func(f *idxFiles) { f.testLabels = idxLabels(2, 10) }, 10,
			[]string{"t10k-labels-idx1-ubyte", "label 10 of image 1 is out of range (10 classes)"}},
		{"trailing image bytes", func(f *idxFiles) { f.trainImages = append(f.trainImages, 0) }, 0,
			[]string{"train-images-idx3-ubyte", "trailing data"}},
		{"trailing label bytes", func(f *idxFiles) { f.testLabels = append(f.testLabels, 1, 2) }, 0,
			[]string{"t10k-labels-idx1-ubyte", "trailing data"}},
		{"zero width", func(f *idxFiles) { f.trainImages = header(f.trainImages); f.trainImages[15] = 0 }, 0,
			[]string{"implausible image size 3x0"}},
		{"huge claimed size", func(f *idxFiles) { f.trainImages = append(header(f.trainImages), 1, 2, 3); f.trainImages[4] = 0xff }, 0,
			[]string{"truncated"}},
		{"test size differs", func(f *idxFiles) { f.testImages = idxImages(2, 4, 3) }, 0, []string{"test images are 4x3"}},
		{"no training images", func(f *idxFiles) { f.trainImages = idxImages(0, 3, 4); f.trainLabels = idxLabels() }, 0,
			[]string{"no training images"}},
	}
	for _, tc := range cases {
		for _, gz := range []bool{false, true} {
			t.Run(tc.name, func(t *testing.T) {
				f := validIDXFiles()
				tc.edit(&f)
				dir := f.write(t, gz)
				_, err := LoadIDX(dir, tc.classes)
				mustFail(t, err, append(tc.want, "dataset: ")...)
			})
		}
	}
}

func TestLoadIDXMissingAndCorruptGzip(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadIDX(dir, 10)
	mustFail(t, err, dir, "missing train-images-idx3-ubyte")

	f := validIDXFiles()
	dir = f.write(t, true)
	gz := gzipBytes(t, f.trainImages)
	writeFile(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), gz[:len(gz)/2])
	_, err = LoadIDX(dir, 10)
	mustFail(t, err, "train-images-idx3-ubyte.gz")

	gz = gzipBytes(t, f.trainImages)
	gz[len(gz)-8] ^= 0xff // corrupt the CRC-32
	writeFile(t, filepath.Join(dir, "train-images-idx3-ubyte.gz"), gz)
	_, err = LoadIDX(dir, 10)
	mustFail(t, err, "train-images-idx3-ubyte.gz", "checksum")
}

func TestReadIDXReaders(t *testing.T) {
	s, err := ReadIDXImages(bytes.NewReader(idxImages(3, 2, 2)))
	if err != nil {
		t.Fatal(err)
	}
	if s.N != 3 || s.C != 1 || s.H != 2 || s.W != 2 || len(s.Pixels) != 12 || s.Labels != nil {
		t.Errorf("got N=%d C=%d H=%d W=%d len=%d", s.N, s.C, s.H, s.W, len(s.Pixels))
	}
	labels, err := ReadIDXLabels(bytes.NewReader(idxLabels(4, 5, 6)))
	if err != nil || !slices.Equal(labels, []uint8{4, 5, 6}) {
		t.Errorf("labels %v, err %v", labels, err)
	}
	// Read in tiny pieces, as a slow stream would deliver it.
	s, err = ReadIDXImages(&oneByteReader{data: idxImages(300, 5, 7)})
	if err != nil || !bytes.Equal(s.Pixels, idxImages(300, 5, 7)[16:]) {
		t.Errorf("byte-by-byte read: err %v", err)
	}
}

type oneByteReader struct{ data []byte }

func (r *oneByteReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.data[0]
	r.data = r.data[1:]
	return 1, nil
}
