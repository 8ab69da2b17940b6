//go:build amd64 && !purego

package kernels

import (
	"fmt"
	"math/rand"
	"testing"
)

// TestLnParamsFourChunksBitIdentical: lnParamsAVX2 runs 32 columns at a time
// through the rows while it can; every column's sums must be the bits of the
// one-chunk loop (the kernel called on each 8-column chunk alone), with and
// without either output, over row strides wider than the columns summed and
// accumulating into non-zero gradients.
func TestLnParamsFourChunksBitIdentical(t *testing.T) {
	if !useSIMD {
		t.Skip("no AVX2/FMA on this CPU")
	}
	rng := rand.New(rand.NewSource(41))
	for _, rows := range []int{1, 3, 17, 544} {
		for _, width := range []int{8, 24, 32, 40, 64, 72, 96, 192, 200} {
			for _, outs := range []string{"both", "dw", "db"} {
				ld := width + 8*rng.Intn(3)
				dout, inp := randSlice(rng, rows*ld), randSlice(rng, rows*ld)
				mean, rstd := randSlice(rng, rows), randSlice(rng, rows)
				dw0, db0 := randSlice(rng, width), randSlice(rng, width)
				run := func(chunk int) (dw, db []float32) {
					dw, db = append([]float32(nil), dw0...), append([]float32(nil), db0...)
					for lo := 0; lo < width; lo += chunk {
						n := min(chunk, width-lo)
						var pw, pb *float32
						if outs != "db" {
							pw = &dw[lo]
						}
						if outs != "dw" {
							pb = &db[lo]
						}
						lnParamsAVX2(pw, pb, &dout[lo], &inp[lo], &mean[0], &rstd[0], rows, ld, n)
					}
					return dw, db
				}
				wantW, wantB := run(8)
				gotW, gotB := run(width)
				name := fmt.Sprintf("rows %d width %d ld %d %s", rows, width, ld, outs)
				assertBits(t, name+" dw", gotW, wantW)
				assertBits(t, name+" db", gotB, wantB)
			}
		}
	}
}
