package kernels

import (
	"fmt"
	"runtime"
	"testing"
)

// TestHelperPanicReachesTheCaller: a panic in any chunk, on a helper
// goroutine or the caller's, comes back as a panic of the calling goroutine
// (where the training graph recovers it), after every other chunk finished.
func TestHelperPanicReachesTheCaller(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs GOMAXPROCS >= 2 for helper goroutines")
	}
	for _, tc := range []struct {
		name  string
		chunk int // items per call of fn
		run   func(fn func(lo, hi int))
	}{
		{"parallelN", 16, func(fn func(lo, hi int)) { parallelN(64, 4, fn) }},
		{"parallelChunks", 8, func(fn func(lo, hi int)) { parallelChunks(Workers(4), 64, 8, fn) }},
	} {
		for _, bad := range []int{0, 63} { // the caller's first chunk, a helper's last
			t.Run(fmt.Sprintf("%s/item%d", tc.name, bad), func(t *testing.T) {
				done := make([]bool, 64)
				got := func() (r any) {
					defer func() { r = recover() }()
					tc.run(func(lo, hi int) {
						for i := lo; i < hi; i++ {
							if i == bad {
								panic(fmt.Sprintf("item %d", i))
							}
							done[i] = true
						}
					})
					return nil
				}()
				if got != fmt.Sprintf("item %d", bad) {
					t.Fatalf("recovered %v, want the panic of item %d", got, bad)
				}
				for i, d := range done {
					if !d && i/tc.chunk != bad/tc.chunk {
						t.Errorf("item %d was not computed", i)
					}
				}
			})
		}
	}
}
