package vit

import (
	"sync"
	"sync/atomic"

	"github.com/frankenvit/frankenvit/vit/kernels"
)

// Arena hands out the float32 buffers of one training step (activations,
// their gradients, backward temporaries) from a few large slabs and takes
// them all back at the next Reset, so that after the first step a training
// loop allocates next to nothing and the garbage collector has no work: the
// llm.c way of keeping activations in preallocated memory. A nil *Arena
// allocates every buffer with make.
//
// Backward temporaries that die with the operator that made them (the
// gradient of a block's MLP activations, say) come from Scratch and go back
// with Recycle, so the next block's backward reuses them: a step holds one
// block's temporaries at a time, not every block's.
//
// Backward runs operators on several goroutines, so Take, Zeros, Scratch
// and Recycle lock.
type Arena struct {
	// Workers is how many goroutines each kernel call of the step may use
	// (the zero value: every core); a caller that runs several shards side
	// by side gives each its share.
	Workers kernels.Workers
	// Running, when set, overrides Workers: it counts the shards running
	// side by side right now, and each kernel call gets its share of the
	// cores when it starts, so a shard left running alone (the other one
	// done) uses every core. Results never depend on it.
	Running *atomic.Int32

	mu    sync.Mutex
	slabs [][]float32
	cur   int // slab being carved
	off   int // first free element of slabs[cur]
	used  int // elements handed out since Reset

	free map[int][][]float32 // recycled scratch buffers by length
}

// minSlab is the smallest slab the arena allocates, in elements.
const minSlab = 1 << 20

// workers is the arena's Workers; a nil arena uses every core.
func (a *Arena) workers() kernels.Workers {
	if a == nil {
		return kernels.AllCores
	}
	if a.Running != nil {
		return kernels.Share(int(a.Running.Load()))
	}
	return a.Workers
}

// Reset takes back every buffer handed out by Take and Zeros. The slabs stay:
// a step that carves the same buffers as the last one (every training step
// of one model and batch size) gets the same memory back, and a slab's tail
// that no step reached was never touched, so it costs no resident memory.
func (a *Arena) Reset() {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
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

// Scratch returns n zeroed elements that the caller hands back with Recycle
// once it no longer needs them (a nil arena allocates).
func (a *Arena) Scratch(n int) []float32 {
	s := a.ScratchAny(n)
	clear(s)
	return s
}

// ScratchAny is Scratch with undefined contents, for a buffer its first
// writer overwrites.
func (a *Arena) ScratchAny(n int) []float32 {
	if a == nil {
		return make([]float32, n)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if list := a.free[n]; len(list) > 0 {
		s := list[len(list)-1]
		a.free[n] = list[:len(list)-1]
		return s
	}
	return make([]float32, n)
}

// Recycle takes back buffers from Scratch for later Scratch calls of the
// same length. The caller must not use them afterwards.
func (a *Arena) Recycle(bufs ...[]float32) {
	if a == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.free == nil {
		a.free = map[int][][]float32{}
	}
	for _, s := range bufs {
		a.free[len(s)] = append(a.free[len(s)], s)
	}
}

// Elements is the capacity of the arena's slabs and recycled scratch
// buffers, in float32s.
func (a *Arena) Elements() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, s := range a.slabs {
		n += len(s)
	}
	for _, list := range a.free {
		for _, s := range list {
			n += len(s)
		}
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
