//go:build amd64 && !purego

package kernels

//go:noescape
func prefetchRowsAsm(p *float32, stride, rows, width int)

// prefetchRows asks the CPU to bring rows rows of width floats, stride
// floats apart from s[0] on, into the caches (for data a kernel is about
// to read in a pattern the hardware prefetchers do not foresee).
func prefetchRows(s []float32, stride, rows, width int) {
	if rows <= 0 || width <= 0 {
		return
	}
	_ = s[(rows-1)*stride+width-1]
	prefetchRowsAsm(&s[0], stride, rows, width)
}
