package swarm

import (
	"os/exec"
	"strings"
	"testing"
)

// TestFleetStopAll: StopAll before any start, with one worker of two
// running, and again after, kills what runs and leaves the rest alone;
// killing a worker that is not running is an error naming it.
func TestFleetStopAll(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command")
	}
	f := &Fleet{Exe: sleep, Own: [][]string{{"30"}, {"30"}}, IDs: []string{"w0", "w1"}}
	f.StopAll() // nothing started yet
	if err := f.Start(0); err != nil {
		t.Fatal(err)
	}
	if !f.Running(0) || f.Running(1) {
		t.Fatalf("running: w0 %v, w1 %v; want only w0", f.Running(0), f.Running(1))
	}
	if err := f.Start(0); err == nil || !strings.Contains(err.Error(), "w0") {
		t.Fatalf("second start of w0: %v", err)
	}
	f.StopAll()
	if f.Running(0) || f.Running(1) {
		t.Fatal("a worker still runs after StopAll")
	}
	f.StopAll()
	if err := f.Kill(1); err == nil || !strings.Contains(err.Error(), "w1 is not running") {
		t.Fatalf("kill of a stopped worker: %v", err)
	}
	if err := f.Start(1); err != nil { // restart after a stop
		t.Fatal(err)
	}
	f.StopAll()
}
