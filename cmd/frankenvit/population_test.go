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

// memberEpochs is how long populationArgs trains each member.
const memberEpochs = 2

// populationArgs trains 4 shuffle children of the default size on the first
// 1200 MNIST images: 1 parent epoch and 2 child epochs.
func populationArgs(store string, extra ...string) []string {
	a := []string{"--store", store, "population", "p", "--data", "mnist", "--limit", "1200", "--parent-epochs", "1",
		"--epochs", strconv.Itoa(memberEpochs), "--size", "4", "--variant", "shuffle", "--orders", "3"}
	return append(a, extra...)
}

// TestConcurrentMembersEqualOnePopulation trains a population with one
// command, then again with four concurrent --member processes on one store,
// two of which are killed with SIGKILL at seeded random moments of their own
// training (after the shared parent is complete): member 1 aimed at its
// first epoch, member 3 at its second, once its first is saved. Each kill
// must land (the process died of SIGKILL, its member unfinished), and each
// rerun must train that member alone, beginning after the epoch the kill
// left saved (member 3's at epoch 2 or later: a resume from a saved state).
// Every model must end complete and bit-identical to the single command's.
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
		epoch int           // the member's epoch the kill is aimed at
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
		// Aimed at epoch k.epoch; a slower or faster machine may let it land
		// in a later one, but it must land before the member is complete.
		if !m.killed || !killedBySIGKILL(m.cmd, m.err) || status == "complete" || saved < k.epoch-1 {
			t.Fatalf("the kill of member %d %v into epoch %d of %s did not land mid-training: killed %v (%v), %s has status %q and a resume state of epoch %d (an epoch took about %v in one process)\n%s",
				i, k.after, k.epoch, name, m.killed, m.err, name, status, saved, perEpoch, m.log.String())
		}
		r := cli(t, nil, populationArgs(shared, "--member", strconv.Itoa(i))...)
		if r.code != 0 {
			t.Fatalf("rerun of member %d: %s", i, r.stderr)
		}
		// The rerun begins after the saved epoch (with none to train when
		// only the final evaluation was left).
		want := saved + 1
		if saved == memberEpochs {
			want = 0
		}
		_, own, trained := strings.Cut(r.stderr, "training "+name+" (")
		if !trained || strings.Contains(r.stderr, "training p-parent") || firstEpoch(own) != want {
			t.Errorf("the rerun of member %d did not train %s alone from epoch %d (after the saved epoch %d):\n%s", i, name, want, saved, r.stderr)
			continue
		}
		t.Logf("member %d killed %v into its epoch %d (%s: status %q, epoch %d saved); the rerun trained it from epoch %d",
			i, k.after, saved+1, name, status, saved, saved+1)
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
