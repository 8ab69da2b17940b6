package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/frankenvit/frankenvit/internal/gopanic"
)

// workerLimit caps the goroutines of one kernel call; 0 means GOMAXPROCS.
var workerLimit atomic.Int32

// SetWorkers caps the goroutines one kernel call may use (n <= 0 lifts the
// cap, leaving GOMAXPROCS) and returns the previous cap. Results never depend
// on it. Callers that run several kernel calls at once, such as the
// data-parallel shards of a training step, set it so that the calls do not
// fight over the cores.
func SetWorkers(n int) (previous int) {
	return int(workerLimit.Swap(int32(max(n, 0))))
}

func maxWorkers() int {
	w := runtime.GOMAXPROCS(0)
	if l := int(workerLimit.Load()); l > 0 && l < w {
		w = l
	}
	return w
}

// Parallel runs fn over [0,n) split into contiguous chunks across
// min(GOMAXPROCS, n/grain) goroutines (at least one). Chunk i of w covers
// [i*n/w, (i+1)*n/w), so the split depends only on n, grain and the worker
// count. The calling goroutine runs the first chunk; Parallel returns when
// all chunks are done.
func Parallel(n, grain int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	parallelN(n, workers(n, grain), fn)
}

// workers is the number of goroutines Parallel uses for n items of grain.
func workers(n, grain int) int {
	if grain < 1 {
		grain = 1
	}
	w := maxWorkers()
	if m := n / grain; m < w {
		w = m
	}
	if w < 1 {
		w = 1
	}
	return w
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
	var wg sync.WaitGroup
	var p gopanic.First
	wg.Add(w - 1)
	for i := 1; i < w; i++ {
		lo, hi := i*n/w, (i+1)*n/w
		go func() {
			defer wg.Done()
			p.Run(func() { fn(lo, hi) })
		}()
	}
	p.Run(func() { fn(0, n/w) })
	wg.Wait()
	p.Repanic()
}

// parallelChunks runs fn over [0,n) in chunks of the given size (the last
// may be shorter), handed out dynamically to the calling goroutine and up to
// GOMAXPROCS-1 helpers. The chunk boundaries depend only on n and chunk, and
// fn must compute each chunk's outputs independently of the others, so the
// results do not depend on which goroutine runs which chunk. The caller
// waits only for chunks that were started: a helper the OS has not scheduled
// yet costs nothing, which keeps a busy machine from stalling every call.
func parallelChunks(n, chunk int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	chunk = max(chunk, 1)
	chunks := (n + chunk - 1) / chunk
	w := min(maxWorkers(), chunks)
	if w <= 1 {
		fn(0, n)
		return
	}
	st := &chunkState{n: n, chunk: chunk, fn: fn}
	st.wg.Add(chunks)
	for i := 1; i < w; i++ {
		go st.work()
	}
	st.work()
	st.wg.Wait()
	st.panicked.Repanic()
}

type chunkState struct {
	next     atomic.Int64
	n        int
	chunk    int
	fn       func(lo, hi int)
	wg       sync.WaitGroup
	panicked gopanic.First
}

func (s *chunkState) work() {
	for {
		lo := int(s.next.Add(int64(s.chunk))) - s.chunk
		if lo >= s.n {
			return
		}
		s.panicked.Run(func() { s.fn(lo, min(lo+s.chunk, s.n)) })
		s.wg.Done()
	}
}
