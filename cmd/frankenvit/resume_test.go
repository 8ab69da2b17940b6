package main

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

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

// TestKilledTrainingResumesToTheSameWeights kills a training with SIGKILL at
// random moments, reruns the same command each time, and checks that the
// finished model is bit-identical to an uninterrupted training.
func TestKilledTrainingResumesToTheSameWeights(t *testing.T) {
	data := t.TempDir()
	if err := synth.Stripes(data, 1200, 100, 1); err != nil {
		t.Fatal(err)
	}
	args := func(store string) []string {
		a := tinyTrainArgs(store, data, "m")
		return append(a, "--epochs", "8", "--variant", "shuffle-predict")
	}
	clean := filepath.Join(t.TempDir(), "clean")
	if r := cli(t, nil, args(clean)...); r.code != 0 {
		t.Fatalf("uninterrupted training: %s", r.stderr)
	}
	want := blobsOf(t, clean, "m")

	crashed := filepath.Join(t.TempDir(), "crashed")
	rng := rand.New(rand.NewPCG(1, 1))
	kills := 0
runs:
	for attempt := 0; attempt < 60; attempt++ {
		cmd := exec.Command(binary, args(crashed)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			// A kill that landed after the final save leaves a complete
			// model, which the rerun refuses to train again.
			if err != nil && !strings.Contains(stderr.String(), "already exists") {
				t.Fatalf("training run %d failed: %v: %s", attempt, err, stderr.String())
			}
			break runs
		case <-time.After(time.Duration(50+rng.IntN(400)) * time.Millisecond):
			cmd.Process.Signal(syscall.SIGKILL)
			<-done
			kills++
		}
	}
	if kills < 3 {
		t.Logf("only %d kills landed before the training finished", kills)
	}
	if got := blobsOf(t, crashed, "m"); got != want {
		t.Errorf("after %d kills and resumes the weights differ from an uninterrupted run", kills)
	}
	t.Logf("%d kills, resumed to identical weights", kills)
}
