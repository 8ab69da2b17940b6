package speed

import (
	"math"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/frankenvit/frankenvit/vit/kernels"
)

// GemmPeak is the best GFLOP/s of kernels.Gemm on a square problem using all cores.
type GemmPeak struct {
	Size    int     `json:"size"`
	Reps    int     `json:"reps"`
	Threads int     `json:"threads"`
	GFLOPS  float64 `json:"gflops"`
	Kernels string  `json:"kernels"`
}

// MeasureGemmPeak times C = A·B on n×n×n float32 matrices with kernels.Gemm
// (all GOMAXPROCS goroutines), once untimed and then reps times, and returns
// the best rate: what our GEMM reaches on a large problem, out of cache. It
// stands in for the peak only where kernels.FMAPeak cannot measure (no
// assembly FMA loop).
func MeasureGemmPeak(n, reps int) GemmPeak {
	if reps < 1 {
		reps = 1
	}
	rng := rand.New(rand.NewPCG(3, 4))
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i], b[i] = rng.Float32()-0.5, rng.Float32()-0.5
	}
	kernels.Gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
	best := math.Inf(1)
	for r := 0; r < reps; r++ {
		t := time.Now()
		kernels.Gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
		best = min(best, time.Since(t).Seconds())
	}
	return GemmPeak{Size: n, Reps: reps, Threads: runtime.GOMAXPROCS(0),
		GFLOPS: 2 * float64(n) * float64(n) * float64(n) / best / 1e9, Kernels: kernels.Implementation()}
}
