package checkpoint

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func blobFiles(t *testing.T, s *Store) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(s.Dir, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

func TestPutBlobDeduplicates(t *testing.T) {
	s := newTestStore(t)
	a, err := s.PutBlob(blockPart(1))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := os.Stat(s.blobPath(a))
	b, err := s.PutBlob(blockPart(1)) // equal content, new maps and slices
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatalf("same part, two digests: %s %s", a, b)
	}
	if err := ValidDigest(a); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.Stat(s.blobPath(a)); !again.ModTime().Equal(info.ModTime()) || !os.SameFile(info, again) {
		t.Error("an existing blob was rewritten")
	}
	c, _ := s.PutBlob(blockPart(2))
	if c == a {
		t.Fatal("different parts, same digest")
	}
	if files := blobFiles(t, s); len(files) != 2 {
		t.Fatalf("blob files %v, want 2", files)
	}
	stored := mustRead(t, s.blobPath(a))
	if DigestOf(stored) != a {
		t.Error("file name is not the hash of the stored bytes")
	}
	if !bytes.HasPrefix(stored, []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		t.Error("blob is not a zstd frame")
	}
	if size, err := s.BlobSize(a); err != nil || size != int64(len(stored)) {
		t.Errorf("BlobSize = %d, %v; file has %d bytes", size, err, len(stored))
	}
	assertNoTemp(t, s.Dir)
}

func TestGetBlobRoundTrip(t *testing.T) {
	s := newTestStore(t)
	part := stemPart(3)
	d, err := s.PutBlob(part)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetBlob(d)
	if err != nil {
		t.Fatal(err)
	}
	if err := sameTensors(part, got); err != nil {
		t.Fatal(err)
	}
}

func TestGetBlobDetectsAFlippedByte(t *testing.T) {
	s := newTestStore(t)
	d, _ := s.PutBlob(blockPart(4))
	path := s.blobPath(d)
	stored := mustRead(t, path)
	for _, at := range []int{0, len(stored) / 2, len(stored) - 1} {
		bad := bytes.Clone(stored)
		bad[at] ^= 0x01
		os.WriteFile(path, bad, 0o644)
		_, err := s.GetBlob(d)
		if err == nil || !strings.Contains(err.Error(), d) || !strings.Contains(err.Error(), "corrupt") {
			t.Errorf("byte %d flipped: error %v, want one naming %s as corrupt", at, err, d)
		}
	}
	// PutBlob of the same part repairs the damaged file.
	if _, err := s.PutBlob(blockPart(4)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetBlob(d); err != nil {
		t.Fatalf("after repair: %v", err)
	}
}

func TestGetBlobErrors(t *testing.T) {
	s := newTestStore(t)
	missing := DigestOf([]byte("nothing"))
	if _, err := s.GetBlob(missing); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing blob: %v", err)
	}
	if _, err := s.BlobSize(missing); !errors.Is(err, ErrNotFound) {
		t.Errorf("BlobSize of a missing blob: %v", err)
	}
	for _, bad := range []string{"", "sha256:", "md5:abc", "sha256:../../models/x", "sha256:" + strings.Repeat("A", 64)} {
		if _, err := s.GetBlob(bad); err == nil || !strings.HasPrefix(err.Error(), "store: invalid blob digest") {
			t.Errorf("digest %q: %v", bad, err)
		}
	}
	if _, err := s.PutBlob(Tensors{}); err == nil {
		t.Error("an empty part was stored")
	}
	if _, err := s.PutBlob(Tensors{"a": {Shape: []int{3}, Data: []float32{1}}}); err == nil || !strings.HasPrefix(err.Error(), "store: ") {
		t.Errorf("inconsistent part: %v", err)
	}
	// Valid hash, but not zstd, or zstd holding no safetensors.
	for what, stored := range map[string][]byte{
		"zstd":        []byte("plain text, not compressed"),
		"safetensors": zstdBytes(t, []byte("not safetensors either")),
	} {
		d := DigestOf(stored)
		os.WriteFile(s.blobPath(d), stored, 0o644)
		if _, err := s.GetBlob(d); err == nil || !strings.Contains(err.Error(), "invalid "+what) || !strings.Contains(err.Error(), d) {
			t.Errorf("%s: %v", what, err)
		}
	}
	assertNoTemp(t, s.Dir)
}

func zstdBytes(t testing.TB, raw []byte) []byte {
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	return enc.EncodeAll(raw, nil)
}

func TestGetBlobStopsAZipBomb(t *testing.T) {
	saved := maxBlobDecoded
	maxBlobDecoded = 1 << 20
	defer func() { maxBlobDecoded = saved }()
	s := newTestStore(t)
	bomb := zstdBytes(t, make([]byte, 8<<20)) // 8 MiB of zeros in a few hundred bytes
	d := DigestOf(bomb)
	os.WriteFile(s.blobPath(d), bomb, 0o644)
	_, err := s.GetBlob(d)
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("zip bomb of %d bytes: %v", len(bomb), err)
	}
}
