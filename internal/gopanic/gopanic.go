package gopanic

import "sync"

// First keeps the first panic of the goroutines that Run calls. Its fields
// are read by Repanic after the caller waited for those goroutines (a
// WaitGroup), which orders the accesses.
type First struct {
	once     sync.Once
	value    any
	panicked bool
}

// Run calls fn, keeping its panic, if the first, instead of letting it go.
func (p *First) Run(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			p.once.Do(func() { p.value, p.panicked = r, true })
		}
	}()
	fn()
}

// Repanic panics on the calling goroutine with the first kept panic, if any.
// Call it after every goroutine that used Run has finished.
func (p *First) Repanic() {
	if p.panicked {
		panic(p.value)
	}
}
