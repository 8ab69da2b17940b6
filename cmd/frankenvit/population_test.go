package main

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// populationArgs trains 4 shuffle children of the default size on the first
// 1200 MNIST images: 1 parent epoch and 2 child epochs.
func populationArgs(store string, extra ...string) []string {
	a := []string{"--store", store, "population", "p", "--data", "mnist", "--limit", "1200", "--parent-epochs", "1",
		"--epochs", "2", "--size", "4", "--variant", "shuffle", "--orders", "3"}
	return append(a, extra...)
}

// TestConcurrentMembersEqualOnePopulation trains a population with one
// command, then again with four concurrent --member processes on one store,
// two of which are killed with SIGKILL at seeded random moments of their own
// training (after the shared parent is complete): member 1 in its first
// epoch, member 3 in its second, after its first is saved. Each kill must
// land (the process died of SIGKILL, its member unfinished), and each rerun
// must train that member alone, member 3's from its saved epoch (its log
// begins at epoch 2). Every model must end complete and bit-identical to the
// single command's.
func TestConcurrentMembersEqualOnePopulation(t *testing.T) {
	whole := filepath.Join(t.TempDir(), "whole")
	r := cli(t, nil, populationArgs(whole)...)
	if r.code != 0 {
		t.Fatalf("population: %s", r.stderr)
	}
	// The median epoch of the single command; four processes sharing the
	// cores take longer.
	secs := epochSeconds(r.stderr)
	slices.Sort(secs)
	perEpoch := time.Duration(secs[len(secs)/2] * float64(time.Second))
	rng := rand.New(rand.NewPCG(killSeed(t), 2))
	type kill struct {
		epoch int           // the member's epoch the kill lands in
		after time.Duration // after the member begins that epoch
	}
	kills := map[int]kill{
		1: {1, time.Duration(0.6 * rng.Float64() * float64(perEpoch))},
		3: {2, time.Duration(0.6 * rng.Float64() * float64(perEpoch))},
	}

	shared := filepath.Join(t.TempDir(), "shared")
	type member struct {
		cmd    *exec.Cmd
		log    *watchedLog
		done   chan error
		err    error
		killed bool
	}
	procs := make([]*member, 4)
	for i := range procs {
		m := &member{log: &watchedLog{}, done: make(chan error, 1)}
		m.cmd = exec.Command(binary, populationArgs(shared, "--member", strconv.Itoa(i))...)
		m.cmd.Stderr = m.log
		if err := m.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { m.done <- m.cmd.Wait() }()
		procs[i] = m
	}
	// Each killed member is watched on its own: from the moment it begins
	// training its member (its log says so) or has saved its first epoch
	// (the store holds that resume state), the kill waits k.after.
	var wg sync.WaitGroup
	for i, k := range kills {
		m, name := procs[i], fmt.Sprintf("p-%d", i)
		begun := func() bool {
			if k.epoch == 1 {
				return strings.Contains(m.log.String(), "training "+name+" (")
			}
			_, saved, err := trainingProgress(shared, name)
			return err == nil && saved == k.epoch-1
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !begun() {
				select {
				case m.err = <-m.done:
					return
				case <-time.After(10 * time.Millisecond):
				}
			}
			select {
			case m.err = <-m.done:
			case <-time.After(k.after):
				m.cmd.Process.Signal(syscall.SIGKILL)
				m.err, m.killed = <-m.done, true
			}
		}()
	}
	wg.Wait()
	for i, m := range procs {
		if _, killed := kills[i]; !killed {
			if m.err = <-m.done; m.err != nil {
				t.Fatalf("member %d: %v\n%s", i, m.err, m.log.String())
			}
		}
	}
	for _, i := range []int{1, 3} {
		m, k, name := procs[i], kills[i], fmt.Sprintf("p-%d", i)
		status, saved := progress(t, shared, name)
		if !m.killed || !killedBySIGKILL(m.cmd, m.err) || status == "complete" || saved != k.epoch-1 {
			t.Fatalf("the kill of member %d %v into epoch %d of %s did not land: killed %v (%v), %s has status %q and a resume state of epoch %d, want %d (an epoch took at least %v in one process)\n%s",
				i, k.after, k.epoch, name, m.killed, m.err, name, status, saved, k.epoch-1, perEpoch, m.log.String())
		}
		r := cli(t, nil, populationArgs(shared, "--member", strconv.Itoa(i))...)
		if r.code != 0 {
			t.Fatalf("rerun of member %d: %s", i, r.stderr)
		}
		_, own, trained := strings.Cut(r.stderr, "training "+name+" (")
		if !trained || strings.Contains(r.stderr, "training p-parent") || firstEpoch(own) != k.epoch {
			t.Errorf("the rerun of member %d did not train %s alone from epoch %d:\n%s", i, name, k.epoch, r.stderr)
			continue
		}
		t.Logf("member %d killed %v into epoch %d of %s (status %q, epoch %d saved); the rerun resumed it at epoch %d",
			i, k.after, k.epoch, name, status, saved, k.epoch)
	}
	for _, name := range []string{"p-parent", "p-0", "p-1", "p-2", "p-3"} {
		if blobsOf(t, shared, name) != blobsOf(t, whole, name) {
			t.Errorf("%s differs between concurrent members and one population command", name)
		}
	}
}

var epochTime = regexp.MustCompile(`(?m)^epoch \d+: .*, (\d+\.\d+)s`)

// epochSeconds are the durations of the epochs a training log reports.
func epochSeconds(log string) []float64 {
	var out []float64
	for _, m := range epochTime.FindAllStringSubmatch(log, -1) {
		x, _ := strconv.ParseFloat(m[1], 64)
		out = append(out, x)
	}
	if len(out) == 0 {
		panic("no epoch in the log:\n" + log)
	}
	return out
}
