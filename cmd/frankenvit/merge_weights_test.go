package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
)

func TestCLIMergeWeights(t *testing.T) {
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 320, 80, 1); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, nil, tinyPopulationArgs(store, data, "p")...); r.code != 0 {
		t.Fatalf("population: %s", r.stderr)
	}
	// Bad: an unknown flag value combination, every problem in one message, nothing stored.
	before := storeFiles(t, store)
	r := cli(t, nil, "--store", store, "merge", "bad", "--method", "slerp", "--from", "p", "--gamma", "0.1")
	if r.code == 0 || !strings.Contains(r.stderr, "at most 1 model") || !strings.Contains(r.stderr, `unknown parameter "gamma"`) ||
		!strings.Contains(r.stderr, "needs parameter t") {
		t.Errorf("bad slerp: exit %d: %s", r.code, r.stderr)
	}
	if storeFiles(t, store) != before {
		t.Error("a bad merge changed the store")
	}
	r = cli(t, nil, "--store", store, "merge", "tm", "--method", "ties", "--from", "p-0,p-1,p-2", "--base", "p-parent",
		"--density", "0.5", "--lambda", "1", "--weights", "0.3,0.3,0.4", "--orders", "0")
	if r.code != 0 || !strings.Contains(r.stdout, "tm") || !strings.Contains(r.stdout, "merged") {
		t.Fatalf("merge ties: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, nil, "--store", store, "store", "show", "tm")
	if r.code != 0 || !strings.Contains(r.stdout, "ties") || !strings.Contains(r.stdout, "density=0.5") || !strings.Contains(r.stdout, "p-parent") {
		t.Errorf("store show: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, nil, "--store", store, "merge", "sl", "--method", "slerp", "--from", "p-1", "--base", "p-0", "--t", "0.5", "--orders", "0")
	if r.code != 0 {
		t.Errorf("merge slerp: exit %d: %s", r.code, r.stderr)
	}
}
