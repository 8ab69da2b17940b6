package kernels

import (
	"testing"
	"time"
)

// The FMA loop really computes: 12 accumulators of n products each.
func TestFMALoopComputes(t *testing.T) {
	if !hasSIMD() {
		t.Skip("no AVX2+FMA loop in this build/machine")
	}
	for _, n := range []int{0, 1, 7, 1000} {
		if got, want := fmaLoop(n, 0.5, 0.25), float32(12*n)*0.125; got != want {
			t.Errorf("fmaLoop(%d, 0.5, 0.25) = %g, want %g", n, got, want)
		}
	}
}

func TestFMAPeakPositive(t *testing.T) {
	p := FMAPeak(1, 5*time.Millisecond)
	if hasSIMD() && !(p > 0) || !hasSIMD() && p != 0 {
		t.Fatalf("FMAPeak = %g with SIMD %v", p, hasSIMD())
	}
}
