package vit

import (
	"sync"

	"github.com/frankenvit/frankenvit/vit/kernels"
)

// Arena hands out the float32 buffers of one training step (activations,
// their gradients, backward temporaries) from a few large slabs and takes
// them all back at the next Reset, so that after the first step a training
// loop allocates next to nothing and the garbage collector has no work: the
// llm.c way of keeping activations in preallocated memory. A nil *Arena
// allocates every buffer with make.
//
// Backward runs operators on several goroutines, so Take and Zeros lock.
type Arena struct {
	// Workers is how many goroutines each kernel call of the step may use
	// (the zero value: every core); a caller that runs several shards side
	// by side gives each its share.
	Workers kernels.Workers

	mu    sync.Mutex
	slabs [][]float32
	cur   int // slab being carved
	off   int // first free element of slabs[cur]
	used  int // elements handed out since Reset
}

// minSlab is the smallest slab the arena allocates, in elements.
const minSlab = 1 << 20

// workers is the arena's Workers; a nil arena uses every core.
func (a *Arena) workers() kernels.Workers {
	if a == nil {
		return kernels.AllCores
	}
	return a.Workers
}

// Reset takes back every buffer handed out. If the last step needed more
// than one slab, the slabs are replaced by one that holds it all.
func (a *Arena) Reset() {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.slabs) > 1 {
		a.slabs = [][]float32{make([]float32, max(a.used, minSlab))}
	}
	a.cur, a.off, a.used = 0, 0, 0
}

// Take returns n elements with undefined contents (the caller overwrites them).
func (a *Arena) Take(n int) []float32 {
	if a == nil {
		return make([]float32, n)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.used += n
	for a.cur < len(a.slabs) && a.off+n > len(a.slabs[a.cur]) {
		a.cur, a.off = a.cur+1, 0
	}
	if a.cur == len(a.slabs) {
		a.slabs = append(a.slabs, make([]float32, max(n, minSlab, a.used)))
		a.off = 0
	}
	s := a.slabs[a.cur][a.off : a.off+n : a.off+n]
	a.off += n
	return s
}

// Zeros returns n zeroed elements.
func (a *Arena) Zeros(n int) []float32 {
	if a == nil {
		return make([]float32, n)
	}
	s := a.Take(n)
	clear(s)
	return s
}

// Elements is the capacity of the arena's slabs, in float32s.
func (a *Arena) Elements() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, s := range a.slabs {
		n += len(s)
	}
	return n
}

// grow returns buf resized to n when it is large enough, else n elements
// from the arena (or from make with a nil arena).
func (a *Arena) grow(buf []float32, n int) []float32 {
	if cap(buf) >= n {
		return buf[:n]
	}
	return a.Take(n)
}

// grow returns buf resized to n, reallocating only when it is too small.
func grow(buf []float32, n int) []float32 {
	var none *Arena
	return none.grow(buf, n)
}
