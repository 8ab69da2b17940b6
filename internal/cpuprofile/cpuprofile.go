// Package cpuprofile runs the CPU profiler into a file written atomically
// (internal/durable) when the profile stops: the one way the global
// --cpuprofile flag and bench speed --profile profile.
package cpuprofile

import (
	"io"
	"runtime/pprof"

	"github.com/frankenvit/frankenvit/internal/durable"
)

// Profile is a running CPU profile.
type Profile struct {
	stop chan struct{}
	done chan error
}

// Start profiles until Stop; the profile streams into the temporary file
// that durable.Write renames when the profile stops. An error starting (a
// folder no file can be created in, another profile running) is returned
// by Stop.
func Start(path string) *Profile {
	p := &Profile{stop: make(chan struct{}), done: make(chan error, 1)}
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

// Stop ends the profile and returns the error of starting or writing it.
func (p *Profile) Stop() error {
	close(p.stop)
	return <-p.done
}
