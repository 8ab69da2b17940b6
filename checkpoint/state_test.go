package checkpoint

import (
	"errors"
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
