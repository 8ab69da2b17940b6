package main

import (
	"io"
	"runtime/pprof"

	"github.com/frankenvit/frankenvit/internal/durable"
)

// cpuProfile is the --cpuprofile of this run: the whole command under the
// CPU profiler, its file written atomically when the command ends.
type cpuProfile struct {
	stop chan struct{}
	done chan error
}

// startCPUProfile profiles until stopAndWait; the profile streams into the
// temporary file that durable.Write renames when the callback returns.
func startCPUProfile(path string) *cpuProfile {
	p := &cpuProfile{stop: make(chan struct{}), done: make(chan error, 1)}
	started := make(chan error, 1)
	go func() {
		p.done <- durable.Write(path, func(w io.Writer) error {
			if err := pprof.StartCPUProfile(w); err != nil {
				started <- err
				return err
			}
			started <- nil
			<-p.stop
			pprof.StopCPUProfile()
			return nil
		})
	}()
	// durable.Write may fail before it calls back (the folder is not
	// writable): then done is sent first and started never is.
	select {
	case err := <-started:
		if err != nil {
			p.done <- <-p.done
		}
	case err := <-p.done:
		p.done <- err
	}
	return p
}

// stopAndWait ends the profile and returns the error of writing it.
func (p *cpuProfile) stopAndWait() error {
	close(p.stop)
	return <-p.done
}
