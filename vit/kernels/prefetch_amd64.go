//go:build amd64 && !purego

package kernels

import "fmt"

//go:noescape
func prefetchRowsAsm(p *float32, stride, rows, width int)

// prefetchRows asks the CPU to bring rows rows of width floats, stride
// floats apart from s[0] on, into the caches (for data a kernel is about
// to read in a pattern the hardware prefetchers do not foresee).
func prefetchRows(s []float32, stride, rows, width int) {
	if rows <= 0 || width <= 0 {
		return
	}
	// A length check, not a read of the last element: the rows may be
	// another goroutine's to write (the next pair's gradient), and a
	// prefetch only hints.
	if last := (rows-1)*stride + width; last > len(s) {
		panic(fmt.Sprintf("kernels: prefetchRows: %d floats past a slice of %d", last, len(s)))
	}
	prefetchRowsAsm(&s[0], stride, rows, width)
}
