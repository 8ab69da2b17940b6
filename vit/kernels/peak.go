package kernels

import (
	"sync"
	"time"
)

// fmaLoopFlops is the float32 operations of one fmaLoop iteration: 12
// eight-lane FMAs of 2 operations each.
const fmaLoopFlops = 12 * 8 * 2

// FMAPeak measures the machine's float32 FMA peak in GFLOP/s: threads
// goroutines each run independent 8-lane FMAs in assembly (no memory
// traffic) for about dur, three times; the best round counts. It is the
// ceiling no kernel can pass, against which benchmarks state their share.
// It returns 0 where there is no SIMD loop (pure-Go build or no AVX2+FMA):
// a Go loop would measure the compiler, not the machine.
func FMAPeak(threads int, dur time.Duration) float64 {
	if !hasSIMD() || threads < 1 {
		return 0
	}
	const iters = 1 << 16 // about 0.2 ms per call at 60 GFLOP/s per core
	best := 0.0
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		calls := make([]int, threads)
		start := time.Now()
		for t := range threads {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for time.Since(start) < dur {
					fmaLoop(iters, 1, 0)
					calls[t]++
				}
			}()
		}
		wg.Wait()
		total := 0
		for _, c := range calls {
			total += c
		}
		best = max(best, float64(total)*iters*fmaLoopFlops/time.Since(start).Seconds()/1e9)
	}
	return best
}
