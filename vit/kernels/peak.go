package kernels

import (
	"sync"
	"time"
)

// fmaLoopImpl is an assembly loop of 12 independent FMAs of lanes float32
// lanes per iteration (acc_i += a*b) that returns lane 0 of the
// accumulators' sum, 12*n*a*b, so that the work cannot be optimised away.
type fmaLoopImpl struct {
	lanes int
	name  string
	run   func(n int, a, b float32) float32
}

// FMAWidth names the widest FMA loop this machine runs ("AVX-512" with 16
// lanes, "AVX2" with 8) and its lanes; "", 0 where there is none.
func FMAWidth() (name string, lanes int) {
	loops := fmaLoops()
	if len(loops) == 0 {
		return "", 0
	}
	w := loops[len(loops)-1]
	return w.name, w.lanes
}

// FMAPeak measures the machine's float32 FMA peak in GFLOP/s with the
// widest FMA the CPU runs (FMAWidth): threads goroutines each run
// independent FMAs in assembly (no memory traffic) for about dur, three
// times; the best round counts. It is the ceiling no kernel can pass,
// against which benchmarks state their share (on a CPU with full-width
// AVX-512 units an 8-lane loop would show half the machine). It returns 0
// where there is no SIMD loop (pure-Go build or no AVX2+FMA): a Go loop
// would measure the compiler, not the machine.
func FMAPeak(threads int, dur time.Duration) float64 {
	loops := fmaLoops()
	if len(loops) == 0 || threads < 1 {
		return 0
	}
	loop := loops[len(loops)-1]
	flops := float64(12 * loop.lanes * 2) // per iteration: 12 FMAs of 2 operations per lane
	const iters = 1 << 16                 // about 0.2 ms per call at 60 GFLOP/s per core
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
					loop.run(iters, 1, 0)
					calls[t]++
				}
			}()
		}
		wg.Wait()
		total := 0
		for _, c := range calls {
			total += c
		}
		best = max(best, float64(total)*iters*flops/time.Since(start).Seconds()/1e9)
	}
	return best
}
