package dataset

import (
	"bytes"
	"testing"
)

func FuzzReadIDXImages(f *testing.F) {
	f.Add(idxImages(2, 3, 4))
	f.Add(idxImages(0, 1, 1))
	f.Add(idxImages(1, 28, 28))
	f.Add(idxImages(2, 3, 4)[:20])
	f.Add(append(idxImages(1, 2, 2), 9))
	f.Add(idxLabels(1, 2, 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadIDXImages(bytes.NewReader(data))
		if err != nil {
			if s != nil {
				t.Fatal("error with a result")
			}
			return
		}
		if s.C != 1 || s.H <= 0 || s.W <= 0 || s.N < 0 || len(s.Pixels) != s.N*s.ImageSize() || s.Labels != nil {
			t.Fatalf("inconsistent split: N=%d C=%d H=%d W=%d len=%d", s.N, s.C, s.H, s.W, len(s.Pixels))
		}
		if len(data) != 16+len(s.Pixels) || !bytes.Equal(s.Pixels, data[16:]) {
			t.Fatal("pixels are not the file's data")
		}
	})
}

func FuzzReadIDXLabels(f *testing.F) {
	f.Add(idxLabels(0, 1, 2, 9))
	f.Add(idxLabels())
	f.Add(idxLabels(1, 2)[:9])
	f.Add(append(idxLabels(1), 1))
	f.Add(idxImages(1, 1, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		labels, err := ReadIDXLabels(bytes.NewReader(data))
		if err != nil {
			return
		}
		if len(data) != 8+len(labels) || !bytes.Equal(labels, data[8:]) {
			t.Fatalf("%d labels from %d bytes", len(labels), len(data))
		}
	})
}

func FuzzReadCIFAR(f *testing.F) {
	f.Add(cifarBatch(1, 0))
	f.Add(cifarBatch(3, 7))
	f.Add(cifarBatch(2, 0)[:4000])
	f.Add([]byte{})
	f.Add([]byte{10})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ReadCIFAR(bytes.NewReader(data))
		if err != nil {
			return
		}
		if s.N <= 0 || s.C != 3 || s.H != 32 || s.W != 32 || len(s.Pixels) != s.N*3072 || len(s.Labels) != s.N || len(data) != s.N*3073 {
			t.Fatalf("inconsistent split: N=%d len=%d labels=%d from %d bytes", s.N, len(s.Pixels), len(s.Labels), len(data))
		}
		for i, l := range s.Labels {
			if l >= 10 || l != data[i*3073] || !bytes.Equal(s.Image(i), data[i*3073+1:(i+1)*3073]) {
				t.Fatalf("record %d differs", i)
			}
		}
	})
}
