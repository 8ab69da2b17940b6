package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
)

// tinyPopulationArgs trains PREFIX-parent and PREFIX-0..2 on the stripes task.
func tinyPopulationArgs(store, data, prefix string, extra ...string) []string {
	a := []string{"--store", store, "population", prefix, "--data", "idx:" + data, "--depth", "3", "--dim", "16", "--heads", "2",
		"--mlp", "24", "--patch", "4", "--parent-epochs", "3", "--epochs", "1", "--batch", "8", "--lr", "3e-3",
		"--variant", "shuffle", "--size", "3", "--orders", "2"}
	return append(a, extra...)
}

// storeFiles snapshots every file of a store (path and content), to compare
// it before and after.
func storeFiles(t *testing.T, store string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(store, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		b.WriteString(path)
		b.Write(data)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestCLIMerge(t *testing.T) {
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 320, 80, 1); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, nil, tinyPopulationArgs(store, data, "p")...); r.code != 0 {
		t.Fatalf("population: %s", r.stderr)
	}
	csvFile := filepath.Join(t.TempDir(), "merge.csv")
	r := cli(t, nil, "--store", store, "merge", "fr", "--from", "p", "--count", "3", "--seed", "4", "--orders", "2", "--csv", csvFile)
	if r.code != 0 || !strings.Contains(r.stdout, "fr-2") || !strings.Contains(r.stdout, "merged") {
		t.Fatalf("merge random: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if csv, _ := os.ReadFile(csvFile); strings.Count(string(csv), "\n") != 1+3+3 || !strings.Contains(string(csv), "fr-1,merged") {
		t.Errorf("csv:\n%s", csv)
	}
	for _, args := range [][]string{{"eval", "fr-1", "--order", "random:2"}, {"store", "show", "fr-0"},
		{"store", "export", "fr-2", filepath.Join(t.TempDir(), "fr.safetensors")}} {
		if r := cli(t, nil, append([]string{"--store", store}, args...)...); r.code != 0 {
			t.Errorf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	recipe := filepath.Join(t.TempDir(), "r.yaml")
	os.WriteFile(recipe, []byte("stem: p-2\nslices:\n  - model: p-0\n    layer_range: [0, 2]\n  - model: p-1\n    blocks: [2]\n"), 0o644)
	r = cli(t, nil, "--store", store, "merge", "r", "--method", "recipe:"+recipe, "--json")
	var out struct {
		Merged []struct {
			Name         string  `json:"name"`
			Plan         string  `json:"plan"`
			TestAccuracy float64 `json:"test_accuracy"`
		} `json:"merged"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil || len(out.Merged) != 1 ||
		out.Merged[0].Plan != "stem p-2, head p-2: p-0[0] p-0[1] p-1[2]" || out.Merged[0].TestAccuracy <= 0 {
		t.Fatalf("merge recipe --json: exit %d %+v\n%s\n%s", r.code, out, r.stdout, r.stderr)
	}

	// Bad recipes: every problem in one line, a non-zero exit, nothing stored.
	before := storeFiles(t, store)
	bad := func(text string) string {
		f := filepath.Join(t.TempDir(), "bad.yaml")
		os.WriteFile(f, []byte(text), 0o644)
		return "recipe:" + f
	}
	if r := cli(t, nil, "--store", store, "train", "wide", "--data", "idx:"+data, "--dim", "32", "--heads", "2", "--depth", "2",
		"--patch", "4", "--epochs", "1"); r.code != 0 {
		t.Fatalf("train wide: %s", r.stderr)
	}
	before = storeFiles(t, store)
	for _, tc := range []struct {
		method string
		want   []string
	}{
		{bad("slices:\n  - model: ghost\n    blocks: [0]\n  - model: p-0\n    blocks: [0]\n"), []string{`unknown model "ghost"`}},
		{bad("stem: p-0\nslices:\n  - model: p-0\n    blocks: [3, 1, 9]\n"), []string{"block 3 is out of range", "block 9 is out of range", "2 problems"}},
		{bad("stem: p-0\nslices: [{model: wide, blocks: [0]}]\n"), []string{"width 32, the stem's model p-0 has width 16"}},
		{bad("stem: p-0\nslices: [{model: p-0, blocks: [0]}]\nstem: p-1\n"), []string{"a second stem"}},
		{bad("stem: p-0\nslices: []\n"), []string{"slices is empty"}},
		{bad("stem: p-0\nslices: [{model: p-0, blocks: [0]\n"), []string{"YAML syntax error"}},
		{bad("stem: [p-0, p-1]\nhead: wide\nslices:\n  - model: p-0\n    layer_range: [2, 0]\n  - model: ghost\n    blocks: [0]\n"),
			[]string{"got a list of 2", "layer_range [2, 0] is empty", `unknown model "ghost"`, "3 problems"}},
		{"recipe:" + filepath.Join(t.TempDir(), "missing.yaml"), []string{"missing.yaml"}},
		{"recipe", []string{"recipe:FILE"}},
		{"median", []string{`--method "median"`}},
	} {
		r := cli(t, nil, "--store", store, "merge", "x", "--method", tc.method)
		failsCleanly(t, r, tc.want[0])
		for _, w := range tc.want[1:] {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", tc.method, w, r.stderr)
			}
		}
	}
	failsCleanly(t, cli(t, nil, "--store", store, "merge", "fr", "--from", "p", "--count", "3"), "already exist")
	failsCleanly(t, cli(t, nil, "--store", store, "merge", "y", "--from", "p,nobody"), `no model or population "nobody"`)
	failsCleanly(t, cli(t, nil, "--store", store, "merge", "y", "--from", "p", "--count", "-1"), "--count")
	failsCleanly(t, cli(t, nil, "--store", store, "merge", "y", "--from", "p", "--csv", filepath.Join(t.TempDir(), "no", "such", "dir.csv")), "--csv")
	if after := storeFiles(t, store); !bytes.Equal([]byte(before), []byte(after)) {
		t.Error("a refused merge changed the store")
	}
}
