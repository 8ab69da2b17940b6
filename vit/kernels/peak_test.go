package kernels

import (
	"testing"
	"time"
)

// Every FMA loop the machine runs really computes: 12 accumulators of n
// products each (an AVX-512 loop is tested where the CPU has AVX-512F only).
func TestFMALoopComputes(t *testing.T) {
	loops := fmaLoops()
	if len(loops) == 0 {
		t.Skip("no AVX2+FMA loop in this build/machine")
	}
	for _, loop := range loops {
		for _, n := range []int{0, 1, 7, 1000} {
			if got, want := loop.run(n, 0.5, 0.25), float32(12*n)*0.125; got != want {
				t.Errorf("%s loop (%d lanes): %d iterations of 0.5*0.25 = %g, want %g", loop.name, loop.lanes, n, got, want)
			}
		}
	}
	if name, lanes := FMAWidth(); lanes != loops[len(loops)-1].lanes || name == "" {
		t.Errorf("FMAWidth %s %d", name, lanes)
	}
	t.Logf("FMA loops run here: %d (widest %s)", len(loops), loops[len(loops)-1].name)
}

func TestFMAPeakPositive(t *testing.T) {
	p := FMAPeak(1, 5*time.Millisecond)
	if hasSIMD() && !(p > 0) || !hasSIMD() && p != 0 {
		t.Fatalf("FMAPeak = %g with SIMD %v", p, hasSIMD())
	}
}
