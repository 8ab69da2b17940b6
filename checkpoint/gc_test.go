package checkpoint

import (
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

func TestRemoveDonorKeepsFrankensteinWhole(t *testing.T) {
	s, a, b, frank := threeModels(t)
	freed, err := s.Remove("a")
	if err != nil {
		t.Fatal(err)
	}
	// a's blocks 0 and 2 were only a's; stem, head and block 1 are frank's.
	want := []string{a.Blocks[0].Blob, a.Blocks[2].Blob}
	sort.Strings(want)
	if len(freed.Blobs) != 2 || freed.Blobs[0] != want[0] || freed.Blobs[1] != want[1] {
		t.Errorf("freed %v, want %v", freed.Blobs, want)
	}
	for _, d := range want {
		if s.HasBlob(d) {
			t.Errorf("blob %s left", d)
		}
	}
	for _, name := range []string{"b", "frank"} {
		if err := s.Verify(name); err != nil {
			t.Errorf("after rm a: %v", err)
		}
	}
	if _, _, _, err := s.LoadParts(frank); err != nil {
		t.Error(err)
	}
	// Removing frank now frees a's stem, head and block 1, not b's block 0.
	sizeBefore, _ := s.Size()
	manifestSize := int64(len(mustRead(t, s.manifestPath("frank"))))
	freed, err = s.Remove("frank")
	if err != nil {
		t.Fatal(err)
	}
	if len(freed.Blobs) != 3 || !s.HasBlob(b.Blocks[0].Blob) {
		t.Errorf("freed %v", freed.Blobs)
	}
	sizeAfter, _ := s.Size()
	if sizeBefore-sizeAfter != freed.BlobBytes+manifestSize || freed.Bytes() != freed.BlobBytes {
		t.Errorf("store shrank by %d bytes; freed %d blob bytes and a %d-byte manifest", sizeBefore-sizeAfter,
			freed.BlobBytes, manifestSize)
	}
	if err := s.Verify("b"); err != nil {
		t.Error(err)
	}
	if n := len(blobFiles(t, s)); n != 5 {
		t.Errorf("%d blobs left, want b's 5", n)
	}
}

func TestGCDeletesGarbageAndLeftovers(t *testing.T) {
	s := newTestStore(t)
	m := createModel(t, s, "m", 1, 2)
	keep := createModel(t, s, "keep", 2, 1)
	old := m.Blocks[1].Blob
	// A new version of block 1: the old blob becomes garbage.
	d, err := s.PutBlob(blockPart(777))
	if err != nil {
		t.Fatal(err)
	}
	m.Blocks[1].Blob = d
	if err := s.Replace(m); err != nil {
		t.Fatal(err)
	}
	oldSize, _ := s.BlobSize(old)
	// What a writer killed mid-save leaves behind.
	leftovers := map[string]int{
		filepath.Join(s.Dir, "blobs", "sha256", ".tmp-abc-123"): 100,
		filepath.Join(s.modelsDir(), ".tmp-m.json-456"):         20,
	}
	for path, n := range leftovers {
		if err := os.WriteFile(path, make([]byte, n), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// A file that is neither a blob nor a temporary file is not touched.
	stray := filepath.Join(s.Dir, "blobs", "sha256", "README")
	os.WriteFile(stray, []byte("x"), 0o644)
	sizeBefore, _ := s.Size()
	freed, err := s.GC()
	if err != nil {
		t.Fatal(err)
	}
	if len(freed.Blobs) != 1 || freed.Blobs[0] != old || freed.BlobBytes != oldSize {
		t.Errorf("freed blobs %v (%d bytes), want %s (%d bytes)", freed.Blobs, freed.BlobBytes, old, oldSize)
	}
	if freed.TempFiles != 2 || freed.TempBytes != 120 || freed.Bytes() != oldSize+120 {
		t.Errorf("freed %d temp files, %d bytes", freed.TempFiles, freed.TempBytes)
	}
	if after, _ := s.Size(); sizeBefore-after != oldSize { // Size does not count temp files
		t.Errorf("store shrank by %d, want %d", sizeBefore-after, oldSize)
	}
	assertNoTemp(t, s.Dir)
	if _, err := os.Stat(stray); err != nil {
		t.Errorf("gc deleted a stray file: %v", err)
	}
	for _, name := range []string{m.Name, keep.Name} {
		if err := s.Verify(name); err != nil {
			t.Error(err)
		}
	}
	r, err := s.Check()
	if err != nil || !r.OK || len(r.Garbage) != 0 {
		t.Errorf("after gc: %+v, %v", r, err)
	}
	freed, err = s.GC()
	if err != nil || len(freed.Blobs) != 0 || freed.Bytes() != 0 {
		t.Errorf("second gc: %+v, %v", freed, err)
	}
}

func TestGCOnEmptyStore(t *testing.T) {
	s := newTestStore(t)
	freed, err := s.GC()
	if err != nil || len(freed.Blobs) != 0 || freed.TempFiles != 0 {
		t.Errorf("%+v, %v", freed, err)
	}
}

// A gc waits for a writer holding the shared lock, and the writer's
// blobs, put before its manifest, survive it. The writer's own PutBlob and
// Create join its hold even while the gc waits.
func TestGCWaitsForAHeldSharedLock(t *testing.T) {
	s := newTestStore(t)
	other := &Store{Dir: s.Dir} // another handle on the same store
	unlock, err := s.LockShared()
	if err != nil {
		t.Fatal(err)
	}
	m := storeModel(t, s, "fresh", 1, 2) // blobs put, no manifest yet
	done := make(chan error, 1)
	go func() {
		_, err := other.GC()
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("gc ran while the shared lock was held (err %v)", err)
	case <-time.After(200 * time.Millisecond):
	}
	// Nested calls do not wait for the pending gc.
	if _, err := s.PutBlob(headPart(5)); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(m); err != nil {
		t.Fatal(err)
	}
	unlock()
	unlock() // idempotent
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := s.Verify("fresh"); err != nil {
		t.Fatalf("gc broke the model written under the lock: %v", err)
	}
	if s.HasBlob(DigestOf(mustEncode(t, headPart(5)))) {
		t.Error("the unreferenced head blob survived the gc")
	}
}

func mustEncode(t *testing.T, ts Tensors) []byte {
	t.Helper()
	stored, _, err := EncodeBlob(ts)
	if err != nil {
		t.Fatal(err)
	}
	return stored
}

func TestWithSharedLock(t *testing.T) {
	s := newTestStore(t)
	err := s.WithSharedLock(func() error {
		m := storeModel(t, s, "w", 1, 1)
		return s.Create(m)
	})
	if err != nil {
		t.Fatal(err)
	}
	// Released: an exclusive lock is free now.
	freed, err := s.GC()
	if err != nil || len(freed.Blobs) != 0 {
		t.Errorf("gc after WithSharedLock: %+v, %v", freed, err)
	}
	if err := s.Verify("w"); err != nil {
		t.Error(err)
	}
}
