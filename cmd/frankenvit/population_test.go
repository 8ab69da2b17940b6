package main

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// populationArgs trains 4 shuffle children of the default size on the first
// 1200 MNIST images: 1 parent epoch and 1 child epoch.
func populationArgs(store string, extra ...string) []string {
	a := []string{"--store", store, "population", "p", "--data", "mnist", "--limit", "1200", "--parent-epochs", "1",
		"--epochs", "1", "--size", "4", "--variant", "shuffle", "--orders", "3"}
	return append(a, extra...)
}

// TestConcurrentMembersEqualOnePopulation trains a population with one
// command, then again with four concurrent --member processes on one store,
// two of which are killed and rerun; every member must end complete and
// bit-identical to the single command's.
func TestConcurrentMembersEqualOnePopulation(t *testing.T) {
	whole := filepath.Join(t.TempDir(), "whole")
	if r := cli(t, nil, populationArgs(whole)...); r.code != 0 {
		t.Fatalf("population: %s", r.stderr)
	}

	shared := filepath.Join(t.TempDir(), "shared")
	start := func(i int) *exec.Cmd {
		cmd := exec.Command(binary, populationArgs(shared, "--member", strconv.Itoa(i))...)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}
	procs := make([]*exec.Cmd, 4)
	for i := range procs {
		procs[i] = start(i)
	}
	time.Sleep(2500 * time.Millisecond)
	for _, i := range []int{1, 3} { // killed mid-way: the parent's or their own training
		procs[i].Process.Signal(syscall.SIGKILL)
	}
	for i, p := range procs {
		err := p.Wait()
		if i != 1 && i != 3 && err != nil {
			t.Fatalf("member %d: %v", i, err)
		}
	}
	for _, i := range []int{1, 3} {
		if r := cli(t, nil, populationArgs(shared, "--member", strconv.Itoa(i))...); r.code != 0 {
			t.Fatalf("rerun of member %d: %s", i, r.stderr)
		}
	}
	for _, name := range []string{"p-parent", "p-0", "p-1", "p-2", "p-3"} {
		if blobsOf(t, shared, name) != blobsOf(t, whole, name) {
			t.Errorf("%s differs between concurrent members and one population command", name)
		}
	}
}
