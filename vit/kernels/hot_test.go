package kernels

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestForkRunsEveryTaskOnce: forks of every width, nested three deep and
// issued from many goroutines at once (far more tasks than helpers, so the
// waiting callers run most of them), run each index exactly once and return
// only after all of them, on 1, 2 and 4 procs.
func TestForkRunsEveryTaskOnce(t *testing.T) {
	for _, procs := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("procs%d", procs), func(t *testing.T) {
			withProcs(procs, func() {
				var wg sync.WaitGroup
				for g := 0; g < 6; g++ {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for n := 1; n <= 5; n++ {
							counts := make([]atomic.Int32, n*n*n)
							fork(n, func(i int) {
								fork(n, func(j int) {
									fork(n, func(k int) { counts[(i*n+j)*n+k].Add(1) })
								})
							})
							for idx := range counts {
								if c := counts[idx].Load(); c != 1 {
									t.Errorf("goroutine %d, width %d: task %d ran %d times", g, n, idx, c)
									return
								}
							}
						}
					}()
				}
				wg.Wait()
			})
		})
	}
}

// TestHelpersParkAndWake: idle helpers stop polling after hotSpin, and a
// later fork wakes them and still runs on every index.
func TestHelpersParkAndWake(t *testing.T) {
	withProcs(2, func() {
		var ran atomic.Int32
		fork(2, func(int) { ran.Add(1) })
		deadline := time.Now().Add(time.Second)
		for hot.spinning.Load() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%d helpers still polling a second after the last task (hotSpin %v)", hot.spinning.Load(), hotSpin)
			}
			time.Sleep(hotSpin)
		}
		hot.mu.Lock()
		parked := len(hot.parked)
		hot.mu.Unlock()
		if parked == 0 {
			t.Fatal("no helper parked")
		}
		fork(2, func(int) { ran.Add(1) })
		if ran.Load() != 4 {
			t.Fatalf("%d tasks ran, want 4", ran.Load())
		}
	})
}

// TestJoinBlocksAfterSpinning: a task that outlasts joinSpin leaves its
// caller blocked (not polling) until it finishes, and the fork still waits
// for it.
func TestJoinBlocksAfterSpinning(t *testing.T) {
	withProcs(2, func() {
		var finished atomic.Bool
		started := make(chan struct{})
		start := time.Now()
		fork(2, func(i int) {
			if i == 0 {
				<-started // task 1 runs on a helper, not on this goroutine
				return
			}
			close(started)
			time.Sleep(joinSpin + 20*time.Millisecond)
			finished.Store(true)
		})
		if !finished.Load() {
			t.Fatal("fork returned before its task finished")
		}
		if time.Since(start) < joinSpin {
			t.Fatalf("fork took %v, shorter than its task", time.Since(start))
		}
	})
}
