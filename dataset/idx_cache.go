package dataset

import (
	"os"
	"sync"
	"time"
)

// A study loads the same IDX files once per population member; decoding a
// gzipped 60,000-image file costs about a second of CPU each time. The last
// decoded files stay in memory (up to idxCacheBytes) and every reader gets
// its own copy, so callers may still change what they get.
const idxCacheBytes = 256 << 20

type idxKey struct {
	path  string
	size  int64
	mtime time.Time
}

var idxCache struct {
	mu      sync.Mutex
	entries map[idxKey]*Split
	order   []idxKey // oldest first
	bytes   int
}

// cachedIDXImages returns a copy of the decoded images of path, decoding
// them with read on a miss; a file whose size or modification time changed
// is read again.
func cachedIDXImages(path string, read func() (*Split, error)) (*Split, error) {
	st, err := os.Stat(path)
	if err != nil {
		return read() // read reports the error in its words
	}
	key := idxKey{path: path, size: st.Size(), mtime: st.ModTime()}
	idxCache.mu.Lock()
	s, ok := idxCache.entries[key]
	idxCache.mu.Unlock()
	if ok {
		return copyIDXSplit(s), nil
	}
	s, err = read()
	if err != nil || len(s.Pixels) > idxCacheBytes {
		return s, err
	}
	idxCache.mu.Lock()
	defer idxCache.mu.Unlock()
	if idxCache.entries == nil {
		idxCache.entries = map[idxKey]*Split{}
	}
	if _, ok := idxCache.entries[key]; !ok {
		kept := copyIDXSplit(s)
		idxCache.entries[key] = kept
		idxCache.order = append(idxCache.order, key)
		idxCache.bytes += len(kept.Pixels)
		for idxCache.bytes > idxCacheBytes {
			old := idxCache.order[0]
			idxCache.order = idxCache.order[1:]
			idxCache.bytes -= len(idxCache.entries[old].Pixels)
			delete(idxCache.entries, old)
		}
	}
	return s, nil
}

func copyIDXSplit(s *Split) *Split {
	c := *s
	c.Pixels = append([]uint8(nil), s.Pixels...)
	c.Labels = append([]uint8(nil), s.Labels...)
	return &c
}
