package kernels

import (
	"fmt"
	"testing"
)

func BenchmarkMicroKernel(b *testing.B) {
	for _, im := range impls() {
		for _, kc := range []int{64, 256} {
			tiles := 12
			a := make([]float32, tiles*im.mr*kc)
			bb := make([]float32, im.nr*kc)
			c := make([]float32, tiles*im.mr*im.nr)
			b.Run(fmt.Sprintf("%s/kc=%d", im.name, kc), func(b *testing.B) {
				for b.Loop() {
					im.kern(kc, a, 1, im.mr, im.mr*kc, bb, im.nr, c, im.nr, 1, 1, nil, tiles)
				}
				b.ReportMetric(2*float64(tiles*im.mr*im.nr*kc)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
