package checkpoint

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestStateAndRecords(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LoadState("m"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing state: %v", err)
	}
	ts := Tensors{"w": {Shape: []int{2}, Data: []float32{1, 2}}}
	if err := s.SaveState("m", ts, map[string]string{"epoch": "3"}); err != nil {
		t.Fatal(err)
	}
	got, meta, err := s.LoadState("m")
	if err != nil || meta["epoch"] != "3" || got["w"].Data[1] != 2 {
		t.Fatalf("state round trip: %v %v %v", got, meta, err)
	}
	if err := s.RemoveState("m"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.LoadState("m"); !errors.Is(err, ErrNotFound) {
		t.Errorf("state after remove: %v", err)
	}
	type rec struct{ N int }
	if err := s.PutRecord("populations", "p", rec{7}); err != nil {
		t.Fatal(err)
	}
	var r rec
	if err := s.GetRecord("populations", "p", &r); err != nil || r.N != 7 {
		t.Errorf("record round trip: %+v, %v", r, err)
	}
	if err := s.GetRecord("populations", "q", &r); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing record: %v", err)
	}
}

func TestLockNameExcludes(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var inside, overlaps atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock, err := s.LockName("parent")
			if err != nil {
				t.Error(err)
				return
			}
			if inside.Add(1) > 1 {
				overlaps.Add(1)
			}
			time.Sleep(20 * time.Millisecond)
			inside.Add(-1)
			unlock()
		}()
	}
	wg.Wait()
	if overlaps.Load() != 0 {
		t.Errorf("%d holders overlapped", overlaps.Load())
	}
}

// A resume state carries a checksum: a flipped byte anywhere in the file,
// a truncation, or a state without a checksum is ErrCorruptState, one line
// naming the model, never tensors to resume from.
func TestStateChecksum(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ts := Tensors{"a": {Shape: []int{2, 3}, Data: []float32{1, 2, 3, 4, 5, 6}}, "b": {Shape: []int{1}, Data: []float32{7}}}
	meta := map[string]string{"frankenvit_state": `{"epoch":2}`}
	if err := s.SaveState("m", ts, meta); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(s.Dir, "state", "m.safetensors")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, gotMeta, err := s.LoadState("m")
	if err != nil || len(gotMeta) != 1 || gotMeta["frankenvit_state"] != meta["frankenvit_state"] || got["a"].Data[5] != 6 {
		t.Fatalf("intact state: %v %v %v", got, gotMeta, err)
	}
	if err := s.SaveState("m", ts, map[string]string{MetaStateChecksum: "x"}); err == nil {
		t.Error("SaveState let the caller set the checksum")
	}
	corrupt := func(what string, data []byte) {
		t.Helper()
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, _, err := s.LoadState("m")
		if !errors.Is(err, ErrCorruptState) || !strings.Contains(err.Error(), "resume state of m") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v", what, err)
		} else {
			t.Logf("%s: %v", what, err)
		}
	}
	headerEnd := 8 + int(binary.LittleEndian.Uint64(good))
	// Every byte of the data area.
	for i := headerEnd; i < len(good); i++ {
		bad := append([]byte(nil), good...)
		bad[i] ^= 0x10
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.LoadState("m"); !errors.Is(err, ErrCorruptState) {
			t.Fatalf("byte %d of %d flipped: %v", i, len(good), err)
		}
	}
	corrupt("a flipped bit in the last tensor value", flip(good, len(good)-1))
	at := strings.Index(string(good), `\"epoch\":2`)
	if at < 0 {
		t.Fatalf("no epoch in the header %q", good[:headerEnd])
	}
	corrupt("the metadata's epoch changed", replaceAt(good, at+len(`\"epoch\":`), '3'))
	corrupt("a truncated state", good[:len(good)-5])
	corrupt("a state cut in its header", good[:20])
	noSum, err := EncodeSafetensors(ts, meta)
	if err != nil {
		t.Fatal(err)
	}
	corrupt("a state without a checksum", noSum)
}

func flip(data []byte, i int) []byte {
	out := append([]byte(nil), data...)
	out[i] ^= 0x01
	return out
}

func replaceAt(data []byte, i int, b byte) []byte {
	out := append([]byte(nil), data...)
	out[i] = b
	return out
}
