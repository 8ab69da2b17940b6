package dataset

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"path/filepath"
	"testing"
)

// idxImages builds an IDX image file of n images of h x w; pixel k of the
// whole file is byte(k*7 + 3), a pattern that catches misplaced bytes.
func idxImages(n, h, w int) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, [4]uint32{idxImagesMagic, uint32(n), uint32(h), uint32(w)})
	for k := 0; k < n*h*w; k++ {
		b.WriteByte(byte(k*7 + 3))
	}
	return b.Bytes()
}

// idxLabels builds an IDX label file holding labels.
func idxLabels(labels ...uint8) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.BigEndian, [2]uint32{idxLabelsMagic, uint32(len(labels))})
	b.Write(labels)
	return b.Bytes()
}

func gzipBytes(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// idxFiles is the content of the four IDX files of a synthetic data set.
type idxFiles struct {
	trainImages, trainLabels, testImages, testLabels []byte
}

func validIDXFiles() idxFiles {
	return idxFiles{
		trainImages: idxImages(5, 3, 4),
		trainLabels: idxLabels(0, 1, 2, 1, 0),
		testImages:  idxImages(2, 3, 4),
		testLabels:  idxLabels(2, 2),
	}
}

// write stores the files in a new temporary directory, gzipped or raw.
func (f idxFiles) write(t testing.TB, gz bool) string {
	t.Helper()
	dir := t.TempDir()
	for name, data := range map[string][]byte{
		"train-images-idx3-ubyte": f.trainImages,
		"train-labels-idx1-ubyte": f.trainLabels,
		"t10k-images-idx3-ubyte":  f.testImages,
		"t10k-labels-idx1-ubyte":  f.testLabels,
	} {
		if gz {
			name, data = name+".gz", gzipBytes(t, data)
		}
		writeFile(t, filepath.Join(dir, name), data)
	}
	return dir
}

// mustFail checks that err is a one-line error mentioning every one of want.
func mustFail(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error mentioning %q, got nil", want)
	}
	msg := err.Error()
	if bytes.ContainsAny([]byte(msg), "\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	for _, w := range want {
		if !bytes.Contains([]byte(msg), []byte(w)) {
			t.Errorf("error %q does not mention %q", msg, w)
		}
	}
}
