package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
)

func TestCLIAnalyze(t *testing.T) {
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 320, 80, 1); err != nil {
		t.Fatal(err)
	}
	args := tinyTrainArgs(store, data, "m")
	args[len(args)-1] = "shuffle-predict"
	if r := cli(t, nil, args...); r.code != 0 {
		t.Fatalf("train: %s", r.stderr)
	}
	out := filepath.Join(t.TempDir(), "figs")
	r := cli(t, nil, "--store", store, "analyze", "m", "--split", "test", "--limit", "40", "--orders", "3", "--out", out, "--csv",
		"--json", "--format", "svg", "--seed", "2")
	if r.code != 0 {
		t.Fatalf("analyze: exit %d\n%s", r.code, r.stderr)
	}
	for _, want := range []string{"per slot", "skipped", "logit lens", "position heads", "linear slot probe", "CKA", "PCA"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("no %q in the printed tables", want)
		}
	}
	for _, f := range []string{"slots.csv", "head-confusion.csv", "cka-matrix.csv", "analysis.json", "lens.svg", "pca-centred.svg"} {
		if st, err := os.Stat(filepath.Join(out, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	var rep struct {
		Accuracy float64 `json:"accuracy"`
		Orders   [][]int `json:"orders"`
		Images   int     `json:"images"`
	}
	raw, _ := os.ReadFile(filepath.Join(out, "analysis.json"))
	if err := json.Unmarshal(raw, &rep); err != nil || len(rep.Orders) != 3 || rep.Images != 40 {
		t.Errorf("analysis.json: %v, %+v", err, rep)
	}
	// The same seed gives the same tables.
	again := cli(t, nil, "--store", store, "analyze", "m", "--split", "test", "--limit", "40", "--orders", "3", "--out", out, "--seed", "2")
	if again.stdout != r.stdout {
		t.Error("same seed, different tables")
	}

	// Bad input: one line, non-zero exit, nothing written.
	fresh := filepath.Join(t.TempDir(), "never")
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"analyze", "nope", "--out", fresh}, "nope"},
		{[]string{"analyze", "m", "--orders", "-2", "--out", fresh}, "--orders"},
		{[]string{"analyze", "m", "--format", "gif", "--out", fresh}, "--format"},
		{[]string{"analyze", "m", "--feature", "max", "--out", fresh}, "--feature"},
		{[]string{"analyze", "m", "--split", "dev", "--out", fresh}, "--split"},
		{[]string{"analyze", "m", "--limit", "1", "--out", fresh}, "at least 2"},
		{[]string{"analyze", "m", "--out", file}, "not a directory"},
		{[]string{"analyze", "m", "--limit", "x", "--out", fresh}, "--limit"},
	} {
		failsCleanly(t, cli(t, nil, append([]string{"--store", store}, c.args...)...), c.want)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a failed analyze created %s", fresh)
	}
}
