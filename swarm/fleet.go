package swarm

import (
	"errors"
	"fmt"
	"io"
	"os/exec"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
)

// Fleet runs a swarm's workers as processes of one executable (the
// frankenvit binary's serve command), so a kill is a real crash: the
// process dies without a goodbye and its connection drops.
type Fleet struct {
	Exe      string
	Common   []string   // arguments every worker gets
	Own      [][]string // each worker's own arguments
	IDs      []string   // each worker's id (its control subject)
	Log      io.Writer  // the workers' standard error
	Conn     *nats.Conn // control messages go through it
	Subjects Subjects

	mu    sync.Mutex
	procs []*exec.Cmd
	done  []chan struct{}
}

// Start starts worker i (again, after a kill).
func (f *Fleet) Start(i int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.procs == nil {
		f.procs, f.done = make([]*exec.Cmd, len(f.Own)), make([]chan struct{}, len(f.Own))
	}
	if f.procs[i] != nil {
		return fmt.Errorf("worker %s is already running", f.IDs[i])
	}
	cmd := exec.Command(f.Exe, append(append([]string{}, f.Common...), f.Own[i]...)...)
	cmd.Stdout, cmd.Stderr = f.Log, f.Log
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start worker %s: %w", f.IDs[i], err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	f.procs[i], f.done[i] = cmd, done
	return nil
}

// Kill kills worker i at once (SIGKILL) and waits until it is gone.
func (f *Fleet) Kill(i int) error {
	var cmd *exec.Cmd
	var done chan struct{}
	f.mu.Lock()
	if f.procs != nil {
		cmd, done = f.procs[i], f.done[i]
		f.procs[i] = nil
	}
	f.mu.Unlock()
	if cmd == nil {
		return fmt.Errorf("worker %s is not running", f.IDs[i])
	}
	cmd.Process.Kill()
	<-done
	return nil
}

// Slow makes worker i add d to every computation.
func (f *Fleet) Slow(i int, d time.Duration) error {
	_, err := f.Conn.Request(f.Subjects.Control(f.IDs[i]), []byte("slow "+d.String()), 5*time.Second)
	if err != nil {
		return fmt.Errorf("slow worker %s: %w", f.IDs[i], err)
	}
	return nil
}

// Running reports whether worker i's process is alive.
func (f *Fleet) Running(i int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.procs == nil || f.procs[i] == nil {
		return false
	}
	select {
	case <-f.done[i]:
		return false
	default:
		return true
	}
}

// StopAll kills every worker still running.
func (f *Fleet) StopAll() {
	for i := range f.Own {
		f.Kill(i) // a worker that is not running is left alone
	}
}

// WaitReady waits until every subject has a worker that answers a probe,
// or fails after timeout naming the first that has none.
func WaitReady(nc *nats.Conn, subjects []string, timeout time.Duration, alive func() error) error {
	end := time.Now().Add(timeout)
	for _, s := range subjects {
		for {
			m := nats.NewMsg(s)
			m.Header.Set(hdrPing, "1")
			m.Header.Set(hdrBatch, "0")
			if _, err := nc.RequestMsg(m, time.Second); err == nil {
				break
			} else if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
				return fmt.Errorf("probe %s: %w", s, err)
			}
			if alive != nil {
				if err := alive(); err != nil {
					return err
				}
			}
			if time.Now().After(end) {
				return fmt.Errorf("no worker serves %s after %v", s, timeout)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}
