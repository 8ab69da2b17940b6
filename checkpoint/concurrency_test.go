package checkpoint

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

// Many writers at once, as a population of training processes would be:
// shared and distinct parts, distinct models, and a race for one name.
func TestConcurrentWriters(t *testing.T) {
	s := newTestStore(t)
	const workers = 8
	var wg sync.WaitGroup
	errs := make(chan error, 4*workers)
	createdShared := make(chan string, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Each worker opens its own Store value, like a separate process.
			s := &Store{Dir: s.Dir}
			name := fmt.Sprintf("member-%d", w)
			m := &Manifest{Name: name, Status: "training", Variant: "shuffle", Config: []byte(`{"dim":4}`)}
			var err error
			if m.Stem.Blob, err = s.PutBlob(stemPart(0)); err != nil { // the same for everyone
				errs <- err
				return
			}
			for i := 0; i < 3; i++ {
				d, err := s.PutBlob(blockPart(int64(1000*w + i))) // distinct
				if err != nil {
					errs <- err
					return
				}
				m.Blocks = append(m.Blocks, PartRef{Blob: d, Source: name, Index: i})
			}
			if m.Head.Blob, err = s.PutBlob(headPart(0)); err != nil {
				errs <- err
				return
			}
			if err := s.Create(m); err != nil {
				errs <- err
				return
			}
			m.Status = "complete"
			if err := s.Replace(m); err != nil {
				errs <- err
				return
			}
			// Everyone tries to take the same name; exactly one wins.
			shared := *m
			shared.Name = "winner"
			switch err := s.Create(&shared); {
			case err == nil:
				createdShared <- name
			case !errors.Is(err, ErrExists):
				errs <- err
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	close(createdShared)
	for err := range errs {
		t.Error(err)
	}
	if n := len(createdShared); n != 1 {
		t.Errorf("%d writers created the shared name, want exactly 1", n)
	}
	ms, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != workers+1 {
		t.Fatalf("%d models, want %d", len(ms), workers+1)
	}
	for _, m := range ms {
		if m.Status != "complete" {
			t.Errorf("%s: status %q", m.Name, m.Status)
		}
		if err := s.Verify(m.Name); err != nil {
			t.Error(err)
		}
	}
	if n := len(blobFiles(t, s)); n != 2+3*workers {
		t.Errorf("%d blob files, want %d", n, 2+3*workers)
	}
	assertNoTemp(t, s.Dir)
	if _, err := os.Stat(s.Dir); err != nil {
		t.Fatal(err)
	}
}
