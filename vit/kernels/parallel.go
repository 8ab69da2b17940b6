package kernels

import (
	"runtime"
	"sync"
)

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
	w := runtime.GOMAXPROCS(0)
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
	wg.Add(w - 1)
	for i := 1; i < w; i++ {
		lo, hi := i*n/w, (i+1)*n/w
		go func() {
			defer wg.Done()
			fn(lo, hi)
		}()
	}
	fn(0, n/w)
	wg.Wait()
}
