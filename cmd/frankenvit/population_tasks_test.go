package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
)

// TestMultiTaskPopulationCLI: population --tasks on three synthetic tasks,
// its per-task table, eval --task and --task all, and bad input.
func TestMultiTaskPopulationCLI(t *testing.T) {
	dir := t.TempDir()
	if err := synth.Stripes(dir, 160, 40, 1); err != nil {
		t.Fatal(err)
	}
	store := filepath.Join(t.TempDir(), "store")
	tasks := "idx:" + dir + ",idx:" + dir + "@vflip,idx:" + dir + "@invert"
	base := []string{"--store", store, "population", "q", "--tasks", tasks, "--parent-epochs", "1", "--epochs", "1",
		"--depth", "2", "--dim", "16", "--heads", "2", "--mlp", "16", "--patch", "4", "--batch", "16", "--orders", "2"}
	r := cli(t, nil, base...)
	if r.code != 0 {
		t.Fatalf("population --tasks: %s", r.stderr)
	}
	for _, want := range []string{"training q-parent", "training q-2", "training q-probe-1", "training q-mt"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("progress lacks %q:\n%s", want, r.stderr)
		}
	}
	for _, want := range []string{"individual (child)", "pretrained (head only)", "multi-task", "average", "idx:" + dir + "@vflip"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, r.stdout)
		}
	}
	r = cli(t, nil, "--store", store, "eval", "q-1")
	if r.code != 0 || !strings.Contains(r.stdout, "@vflip") {
		t.Errorf("eval of child 1 (its own task by default): %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, nil, "--store", store, "eval", "q-mt", "--task", "all")
	if r.code != 0 || strings.Count(r.stdout, "q-mt") != 4 || !strings.Contains(r.stdout, "average") {
		t.Errorf("eval --task all: %d %s %s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, nil, "--store", store, "eval", "q-mt", "--task", "mnist")
	if r.code == 0 || !strings.Contains(r.stderr, `has no task "mnist"`) {
		t.Errorf("eval --task mnist: %d %s", r.code, r.stderr)
	}
	// Bad input: one line, non-zero, nothing stored.
	bad := filepath.Join(t.TempDir(), "bad")
	r = cli(t, nil, "--store", bad, "population", "b", "--tasks", "idx:"+dir+",idx:"+dir)
	if r.code == 0 || !strings.Contains(r.stderr, "given twice") {
		t.Errorf("duplicate tasks: %d %s", r.code, r.stderr)
	}
	r = cli(t, nil, "--store", bad, "population", "b", "--tasks", tasks, "--data", "mnist")
	if r.code == 0 || !strings.Contains(r.stderr, "--data does not apply") {
		t.Errorf("--data with --tasks: %d %s", r.code, r.stderr)
	}
	r = cli(t, nil, "--store", bad, "store", "ls")
	if strings.Contains(r.stdout, "b-parent") {
		t.Errorf("bad input stored a model: %s", r.stdout)
	}
}
