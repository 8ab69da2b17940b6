package dataset

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestIDXCache: a second read of an unchanged file is served from memory as
// a private copy; a changed file is read again.
func TestIDXCache(t *testing.T) {
	path := filepath.Join(t.TempDir(), "images")
	if err := os.WriteFile(path, []byte("v1"), 0o644); err != nil {
		t.Fatal(err)
	}
	reads := 0
	read := func() (*Split, error) {
		reads++
		return &Split{Pixels: []uint8{1, 2, 3, byte(reads)}, Labels: []uint8{7}, N: 1, C: 1, H: 2, W: 2}, nil
	}
	a, err := cachedIDXImages(path, read)
	if err != nil {
		t.Fatal(err)
	}
	a.Pixels[0], a.Labels[0] = 99, 99 // the caller's copy
	b, _ := cachedIDXImages(path, read)
	if reads != 1 || b.Pixels[0] != 1 || b.Labels[0] != 7 || b.Pixels[3] != 1 || b.N != 1 || b.W != 2 {
		t.Fatalf("second read: %d decodes, got %+v", reads, b)
	}
	if err := os.WriteFile(path, []byte("v2, longer"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(path, time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	c, _ := cachedIDXImages(path, read)
	if reads != 2 || c.Pixels[3] != 2 {
		t.Fatalf("a changed file was not decoded again (%d decodes, %v)", reads, c.Pixels)
	}
}
