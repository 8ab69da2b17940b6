package vit

import "github.com/frankenvit/frankenvit/vit/kernels"

// paramSpanGrain is the fewest elements a goroutine of ParallelSpans takes:
// waking a goroutine costs tens of µs on a VM, about what the element-wise
// passes over 32k floats take.
const paramSpanGrain = 32 * 1024

// ParallelSpans runs fn over the elements of tensors of the given sizes,
// split into contiguous spans that each lie inside one tensor (index i,
// elements lo..hi), across w's goroutines. The split depends only on the
// sizes and the goroutine count, and fn must treat each element on its own
// (element-wise work: an optimizer update, a sum of gradients), so the
// results never depend on it.
func ParallelSpans(w kernels.Workers, sizes []int, fn func(i, lo, hi int)) {
	offs := make([]int, len(sizes)+1)
	for i, n := range sizes {
		offs[i+1] = offs[i] + n
	}
	w.Parallel(offs[len(sizes)], paramSpanGrain, func(lo, hi int) {
		for i := range sizes {
			a, b := max(lo, offs[i]), min(hi, offs[i+1])
			if a < b {
				fn(i, a-offs[i], b-offs[i])
			}
		}
	})
}

// GradSizes is the element counts of params' tensors, ParallelSpans' sizes.
func GradSizes(params []*Param) []int {
	out := make([]int, len(params))
	for i, p := range params {
		out[i] = len(p.Grad)
	}
	return out
}
