package vit

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"

	"github.com/frankenvit/frankenvit/vit/kernels"
)

// Every element is visited exactly once, by a span inside its tensor,
// whatever the sizes (empty tensors, tensors smaller and larger than a
// goroutine's share) and the goroutine count.
func TestParallelSpansCoverEveryElementOnce(t *testing.T) {
	for _, sizes := range [][]int{{}, {0}, {1}, {5, 0, 3}, {100000}, {70000, 5, 0, 40000, 33, 2 * paramSpanGrain}} {
		for _, procs := range []int{1, 2, 3} {
			func() {
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
				seen := make([][]int32, len(sizes))
				for i, n := range sizes {
					seen[i] = make([]int32, n)
				}
				var mu sync.Mutex
				ParallelSpans(kernels.AllCores, sizes, func(i, lo, hi int) {
					mu.Lock()
					defer mu.Unlock()
					if lo < 0 || hi > sizes[i] || lo >= hi {
						t.Errorf("sizes %v procs %d: span %d [%d,%d) outside its tensor", sizes, procs, i, lo, hi)
						return
					}
					for j := lo; j < hi; j++ {
						seen[i][j]++
					}
				})
				for i := range seen {
					for j, c := range seen[i] {
						if c != 1 {
							t.Fatalf("sizes %v procs %d: tensor %d element %d visited %d times", sizes, procs, i, j, c)
						}
					}
				}
			}()
		}
	}
}

// AddGradsInto on every core gives each element the one float32 sum a
// serial loop gives, and zeroes the shadow's gradients.
func TestAddGradsIntoMatchesSerialSum(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
	m, err := NewModel("m", DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	sh := m.GradShadow()
	rng := rand.New(rand.NewPCG(3, 4))
	var want [][]float32
	for i, p := range m.Params() {
		q := sh.Params()[i]
		w := make([]float32, len(p.Grad))
		for j := range p.Grad {
			p.Grad[j], q.Grad[j] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
			w[j] = p.Grad[j] + q.Grad[j]
		}
		want = append(want, w)
	}
	sh.AddGradsInto(m)
	for i, p := range m.Params() {
		for j := range p.Grad {
			if math.Float32bits(p.Grad[j]) != math.Float32bits(want[i][j]) {
				t.Fatalf("%s[%d] = %v, want %v", p.Name, j, p.Grad[j], want[i][j])
			}
			if g := sh.Params()[i].Grad[j]; g != 0 {
				t.Fatalf("shadow %s[%d] = %v after AddGradsInto, want 0", p.Name, j, g)
			}
		}
	}
}
