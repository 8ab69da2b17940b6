package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLIStudyBadFile(t *testing.T) {
	dir, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(`name: bad
populations:
  - {name: p, variant: sideways, size: 2, data: imagenet}
merges:
  - {name: m, method: random, from: [undefined-pop]}
sweeps:
  - {kind: depth, models: [p]}
`), 0o644)
	r := cli(t, nil, "--store", store, "study", bad, "--out", filepath.Join(dir, "out"))
	failsCleanly(t, r, "3 problem(s)")
	for _, want := range []string{"sideways", "imagenet", "undefined-pop"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the error does not name %s: %s", want, r.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("a failed study created its output folder")
	}
	if entries, _ := os.ReadDir(filepath.Join(store, "models")); len(entries) != 0 {
		t.Error("a failed study stored models")
	}
	os.WriteFile(bad, []byte("name: x\npopulatoins: []\n"), 0o644)
	failsCleanly(t, cli(t, nil, "--store", store, "study", bad), "populatoins")
	failsCleanly(t, cli(t, nil, "--store", store, "study", filepath.Join(dir, "missing.yaml")), "missing.yaml")
	if r := cli(t, nil, "--store", store, "study", "--check"); r.code != 0 || !strings.Contains(r.stdout, "no problems") {
		t.Errorf("the built-in quickstart does not check: %s%s", r.stdout, r.stderr)
	}
}
