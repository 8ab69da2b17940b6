package kernels

import (
	"runtime"
	"sync/atomic"

	"github.com/frankenvit/frankenvit/internal/gopanic"
)

// Workers is the number of goroutines one kernel call may use: the kernels
// that split their work across goroutines are also methods of Workers, and
// the caller that owns the cores decides, call by call. A caller that runs
// several kernel calls side by side (the data-parallel shards of a training
// step, the batches of an evaluation) gives each call its share of the
// cores. Workers <= 0 ([AllCores]) means GOMAXPROCS; a larger count than
// GOMAXPROCS is capped at it. Results never depend on it. The package-level
// functions are the AllCores methods.
type Workers int

// AllCores lets a kernel call use up to GOMAXPROCS goroutines.
const AllCores Workers = 0

// Share is the Workers of each of n kernel calls that run side by side:
// GOMAXPROCS/n (at least 1), or AllCores for n <= 1.
func Share(n int) Workers {
	if n <= 1 {
		return AllCores
	}
	return Workers(max(1, runtime.GOMAXPROCS(0)/n))
}

// Count is the number of goroutines w lets a kernel call use.
func (w Workers) Count() int { return w.limit() }

// limit is the goroutine count w allows.
func (w Workers) limit() int {
	n := runtime.GOMAXPROCS(0)
	if w > 0 && int(w) < n {
		n = int(w)
	}
	return n
}

// Parallel runs fn over [0,n) split into contiguous chunks across
// min(GOMAXPROCS, n/grain) goroutines (at least one). Chunk i of w covers
// [i*n/w, (i+1)*n/w), so the split depends only on n, grain and the worker
// count. The calling goroutine runs the first chunk; Parallel returns when
// all chunks are done.
func Parallel(n, grain int, fn func(lo, hi int)) { AllCores.Parallel(n, grain, fn) }

// Parallel is [Parallel] on at most w goroutines.
func (w Workers) Parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	parallelN(n, w.workers(n, grain), fn)
}

// workers is the number of goroutines Parallel uses for n items of grain.
func (w Workers) workers(n, grain int) int {
	if grain < 1 {
		grain = 1
	}
	k := w.limit()
	if m := n / grain; m < k {
		k = m
	}
	if k < 1 {
		k = 1
	}
	return k
}

// parallelN splits [0,n) into w contiguous chunks and runs them concurrently.
func parallelN(n, w int, fn func(lo, hi int)) {
	if w <= 1 || n <= 1 {
		fn(0, n)
		return
	}
	if w > n {
		w = n
	}
	var p gopanic.First
	fork(w, func(i int) { p.Run(func() { fn(i*n/w, (i+1)*n/w) }) })
	p.Repanic()
}

// parallelChunks runs fn over [0,n) in chunks of the given size (the last
// may be shorter), handed out dynamically to the calling goroutine and up to
// wk.limit()-1 helpers. The chunk boundaries depend only on n and chunk, and
// fn must compute each chunk's outputs independently of the others, so the
// results do not depend on which goroutine runs which chunk. The caller
// waits only for chunks that were started: a helper the OS has not scheduled
// yet costs nothing, which keeps a busy machine from stalling every call.
func parallelChunks(wk Workers, n, chunk int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunk = max(chunk, 1)
	chunks := (n + chunk - 1) / chunk
	w := min(wk.limit(), chunks)
	if w <= 1 {
		fn(0, n)
		return
	}
	st := &chunkState{n: n, chunk: chunk, fn: fn, chunks: newJoin(chunks)}
	for i := 1; i < w; i++ {
		push(st.work)
	}
	st.work()
	st.chunks.wait()
	st.panicked.Repanic()
}

type chunkState struct {
	next     atomic.Int64
	n        int
	chunk    int
	fn       func(lo, hi int)
	chunks   *join // chunks not yet finished
	panicked gopanic.First
}

func (s *chunkState) work() {
	for {
		lo := int(s.next.Add(int64(s.chunk))) - s.chunk
		if lo >= s.n {
			return
		}
		s.panicked.Run(func() { s.fn(lo, min(lo+s.chunk, s.n)) })
		s.chunks.done()
	}
}
