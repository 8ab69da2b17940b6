package dataset

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// cifarBatch builds n CIFAR-10 records; record i has label (first+i)%10 and
// every byte of its image equal to byte(i*31 + channel*7 + first).
func cifarBatch(n int, first int) []byte {
	var b []byte
	for i := 0; i < n; i++ {
		b = append(b, byte((first+i)%10))
		for c := 0; c < 3; c++ {
			for k := 0; k < 1024; k++ {
				b = append(b, byte(i*31+c*7+first))
			}
		}
	}
	return b
}

// writeCIFAR lays out a synthetic binary CIFAR-10 in dir: batch b holds
// b+1 records, the test batch 2.
func writeCIFAR(t *testing.T, dir string) {
	for b, name := range cifarTrainFiles {
		writeFile(t, filepath.Join(dir, name), cifarBatch(b+1, b))
	}
	writeFile(t, filepath.Join(dir, "test_batch.bin"), cifarBatch(2, 9))
}

func TestLoadCIFAR10RoundTrip(t *testing.T) {
	dir := t.TempDir()
	writeCIFAR(t, dir)
	ds, err := Load("cifar10:" + dir)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ds.Classes, CIFAR10Classes) {
		t.Errorf("Classes = %q", ds.Classes)
	}
	tr, te := ds.Train, ds.Test
	if tr.N != 15 || te.N != 2 || tr.C != 3 || tr.H != 32 || tr.W != 32 || te.C != 3 {
		t.Fatalf("shapes: train %d %dx%dx%d, test %d", tr.N, tr.C, tr.H, tr.W, te.N)
	}
	// Image 1 of the train split is record 0 of data_batch_2 (first = 1).
	img := tr.Image(1)
	if tr.Labels[1] != 1 || img[0] != 1 || img[1024] != 8 || img[3071] != 15 {
		t.Errorf("image 1: label %d, bytes %d %d %d", tr.Labels[1], img[0], img[1024], img[3071])
	}
	if !slices.Equal(te.Labels, []uint8{9, 0}) {
		t.Errorf("test labels %v", te.Labels)
	}
}

func TestLoadCIFAR10NestedDirAndMeta(t *testing.T) {
	dir := t.TempDir()
	nested := filepath.Join(dir, "cifar-10-batches-bin")
	writeCIFAR(t, nested)
	names := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n\n"
	writeFile(t, filepath.Join(nested, "batches.meta.txt"), []byte(names))
	ds, err := LoadCIFAR10(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ds.Classes, ""); got != "abcdefghij" {
		t.Errorf("Classes = %q", ds.Classes)
	}
	writeFile(t, filepath.Join(nested, "batches.meta.txt"), []byte("a\nb\n"))
	_, err = LoadCIFAR10(dir)
	mustFail(t, err, "batches.meta.txt", "want 10 class names", "got 2")
}

func TestLoadCIFAR10BadFiles(t *testing.T) {
	cases := []struct {
		name string
		file string
		data []byte
		want []string
	}{
		{"truncated record", "data_batch_3.bin", cifarBatch(2, 0)[:3073+100], []string{"data_batch_3.bin", "not a multiple of the 3073-byte", "1 whole records and 100 bytes over"}},
		{"trailing byte", "test_batch.bin", append(cifarBatch(1, 0), 0), []string{"test_batch.bin", "not a multiple"}},
		{"label out of range", "data_batch_5.bin", append(cifarBatch(1, 0), cifarBatch(1, 0)...), nil},
		{"empty", "data_batch_1.bin", nil, []string{"data_batch_1.bin", "empty"}},
	}
	cases[2].data[3073] = 10
	cases[2].want = []string{"data_batch_5.bin", "label 10 of record 1 is out of range"}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeCIFAR(t, dir)
			writeFile(t, filepath.Join(dir, tc.file), tc.data)
			_, err := LoadCIFAR10(dir)
			mustFail(t, err, tc.want...)
		})
	}
	_, err := LoadCIFAR10(t.TempDir())
	mustFail(t, err, "missing data_batch_1.bin")
}
