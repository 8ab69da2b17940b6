package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/internal/synth"
)

// blobsOf lists the blob digests of a stored model: equal digests are equal bytes.
func blobsOf(t *testing.T, store, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(store, "models", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct {
		Status string
		Stem   struct{ Blob string }
		Blocks []struct{ Blob string }
		Head   struct{ Blob string }
	}
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	if man.Status != "complete" {
		t.Fatalf("model %s has status %q", name, man.Status)
	}
	parts := []string{man.Stem.Blob, man.Head.Blob}
	for _, b := range man.Blocks {
		parts = append(parts, b.Blob)
	}
	return strings.Join(parts, " ")
}

// KillSeedVariable names the environment variable that fixes the seed of
// the kill tests' kill times, to reproduce a run the test printed.
const KillSeedVariable = "FRANKENVIT_KILL_SEED"

// killSeed is the seed of a kill test's kill times: FRANKENVIT_KILL_SEED if
// set, else the clock's. The test prints it.
func killSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv(KillSeedVariable); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("%s=%q: %v", KillSeedVariable, v, err)
		}
	}
	t.Logf("kill times drawn with seed %d (reproduce with %s=%d)", seed, KillSeedVariable, seed)
	return seed
}

// killedBySIGKILL reports whether a waited-for process died of SIGKILL
// rather than exiting.
func killedBySIGKILL(cmd *exec.Cmd, err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// progress is how far a stored training got: its manifest's status ("" when
// there is none) and the epoch of its resume state (0 when there is none).
func progress(t *testing.T, store, name string) (status string, epoch int) {
	t.Helper()
	status, epoch, err := trainingProgress(store, name)
	if err != nil {
		t.Fatalf("after a kill: %v", err)
	}
	return status, epoch
}

func trainingProgress(store, name string) (status string, epoch int, err error) {
	s, err := checkpoint.Open(store)
	if err != nil {
		return "", 0, err
	}
	if s.Exists(name) {
		man, err := s.Get(name)
		if err != nil {
			return "", 0, err
		}
		status = man.Status
	}
	_, meta, err := s.LoadState(name)
	if errors.Is(err, checkpoint.ErrNotFound) {
		return status, 0, nil
	} else if err != nil {
		return "", 0, err
	}
	var st struct{ Epoch int }
	if err := json.Unmarshal([]byte(meta["frankenvit_state"]), &st); err != nil || st.Epoch <= 0 {
		return "", 0, fmt.Errorf("the resume state of %s says %q: %v", name, meta["frankenvit_state"], err)
	}
	return status, st.Epoch, nil
}

// closed is a channel that is always ready.
var closed = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// watchedLog keeps a child's stderr and closes seen when want first holds
// of it (when a line reports a finished epoch, for a nil want).
type watchedLog struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want func(log string) bool
	seen chan struct{}
}

func (w *watchedLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b.Write(p)
	if w.seen != nil && (w.want == nil && firstEpoch(w.b.String()) > 0 || w.want != nil && w.want(w.b.String())) {
		close(w.seen)
		w.seen = nil
	}
	return len(p), nil
}

func (w *watchedLog) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

var epochLine = regexp.MustCompile(`(?m)^epoch (\d+): `)

// firstEpoch is the first epoch a training's log reports finishing, 0 if none.
func firstEpoch(log string) int {
	m := epochLine.FindStringSubmatch(log)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// TestKilledTrainingResumesToTheSameWeights kills a training with SIGKILL at
// seeded random moments, reruns the same command each time, and checks that
// the kills landed mid-training (the process died of SIGKILL with a resume
// state of an unfinished model in the store), that the reruns resumed from
// that state (their first epoch is the one after it, never epoch 1 again),
// and that the finished model is bit-identical to an uninterrupted training.
func TestKilledTrainingResumesToTheSameWeights(t *testing.T) {
	const epochs, wantLanded = 8, 3
	data := t.TempDir()
	if err := synth.Stripes(data, 1200, 100, 1); err != nil {
		t.Fatal(err)
	}
	args := func(store string) []string {
		a := tinyTrainArgs(store, data, "m")
		return append(a, "--epochs", strconv.Itoa(epochs), "--variant", "shuffle-predict")
	}
	clean := filepath.Join(t.TempDir(), "clean")
	start := time.Now()
	if r := cli(t, nil, args(clean)...); r.code != 0 {
		t.Fatalf("uninterrupted training: %s", r.stderr)
	}
	perEpoch := time.Since(start) / epochs
	want := blobsOf(t, clean, "m")
	t.Logf("clean run %v", time.Since(start))

	// Most runs are killed a random fraction of an epoch after they report
	// finishing their first epoch (so mid-way through the next one, or while
	// saving); one in four a random fraction of an epoch after starting
	// (while loading, or in its first epoch).
	rng := rand.New(rand.NewPCG(killSeed(t), 1))
	crashed := filepath.Join(t.TempDir(), "crashed")
	landed, resumed, savedEpoch := 0, 0, 0
	var story []string
	for attempt := 0; ; attempt++ {
		if attempt == 4*epochs {
			t.Fatalf("the training did not finish after %d runs: %s", attempt, strings.Join(story, "; "))
		}
		cmd := exec.Command(binary, args(crashed)...)
		stderr := &watchedLog{seen: make(chan struct{})}
		cmd.Stderr = stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		early, delay := rng.IntN(4) == 0, time.Duration(rng.Float64()*float64(perEpoch))
		start := stderr.seen
		if early {
			start = closed
		}
		var err error
		killed := false
		select {
		case err = <-done:
		case <-start:
			select {
			case err = <-done:
			case <-time.After(delay):
				cmd.Process.Signal(syscall.SIGKILL)
				err, killed = <-done, true
			}
		}
		// A run that started from a resume state reports the epoch after it first.
		log := stderr.String()
		if first := firstEpoch(log); first > 0 {
			if first != savedEpoch+1 {
				t.Fatalf("run %d began at epoch %d, the store's resume state held epoch %d:\n%s", attempt, first, savedEpoch, log)
			}
			if savedEpoch > 0 {
				resumed++
			}
		}
		if !killed || !killedBySIGKILL(cmd, err) {
			// It finished before the kill, or a kill after the final save left
			// a complete model, which this run then refused to train again.
			if err != nil && !strings.Contains(log, "already exists") {
				t.Fatalf("training run %d failed: %v: %s", attempt, err, log)
			}
			story = append(story, fmt.Sprintf("run %d finished", attempt))
			break
		}
		status, epoch := progress(t, crashed, "m")
		switch {
		case status == "complete":
			story = append(story, fmt.Sprintf("run %d killed after its final save", attempt))
		case epoch < savedEpoch:
			t.Fatalf("after the kill of run %d the resume state went back from epoch %d to %d", attempt, savedEpoch, epoch)
		case epoch > savedEpoch:
			// It saved an epoch and died of SIGKILL before the end: a kill
			// mid-training, which the next run must resume from.
			landed++
			story = append(story, fmt.Sprintf("run %d killed mid-training after saving epoch %d", attempt, epoch))
		default:
			story = append(story, fmt.Sprintf("run %d killed before it saved an epoch", attempt))
		}
		savedEpoch = epoch
	}
	t.Log(strings.Join(story, "; "))
	if landed < wantLanded || resumed < wantLanded {
		t.Errorf("%d kills landed mid-training and %d reruns resumed, want at least %d of each (an epoch takes %v)",
			landed, resumed, wantLanded, perEpoch)
	}
	if got := blobsOf(t, crashed, "m"); got != want {
		t.Errorf("after %d kills and resumes the weights differ from an uninterrupted run", landed)
	}
}
