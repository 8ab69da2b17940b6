package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "frankenvit-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "frankenvit")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

func cli(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// failsCleanly asserts one error line naming want, a non-zero exit and no panic.
func failsCleanly(t *testing.T, r result, want string) {
	t.Helper()
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if r.code == 0 || len(lines) != 1 || !strings.Contains(r.stderr, want) || strings.Contains(r.stderr, "goroutine") {
		t.Errorf("want one error line containing %q and a non-zero exit; got exit %d, stderr:\n%s", want, r.code, r.stderr)
	}
}

func tinyTrainArgs(store, data, name string) []string {
	return []string{"--store", store, "train", name, "--data", "idx:" + data, "--depth", "3", "--dim", "16", "--heads", "2",
		"--mlp", "24", "--patch", "4", "--epochs", "4", "--batch", "8", "--lr", "3e-3", "--variant", "shuffle"}
}

func TestCLITrainEvalStore(t *testing.T) {
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 320, 80, 1); err != nil {
		t.Fatal(err)
	}
	r0 := cli(t, nil, tinyTrainArgs(store, data, "m")...)
	if r0.code != 0 || !strings.Contains(r0.stdout, "TEST ACC") {
		t.Fatalf("train: exit %d\n%s\n%s", r0.code, r0.stdout, r0.stderr)
	}
	r := cli(t, nil, "--store", store, "eval", "m", "--order", "random:3", "--json")
	var ev struct {
		Accuracy    float64 `json:"accuracy"`
		AccuracyStd float64 `json:"accuracy_std"`
		Orders      [][]int `json:"orders"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &ev) != nil || len(ev.Orders) != 3 || ev.Accuracy <= 0.5 {
		t.Fatalf("eval --json: exit %d, %+v\n%s%s", r.code, ev, r.stdout, r.stderr)
	}
	// The printed tables: m's row and fields, each cell in its column.
	var seq, rev struct{ Accuracy float64 }
	for _, c := range []struct {
		order string
		into  *struct{ Accuracy float64 }
	}{{"sequential", &seq}, {"reversed", &rev}} {
		r := cli(t, nil, "--store", store, "eval", "m", "--order", c.order, "--json")
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), c.into) != nil || c.into.Accuracy <= 0 {
			t.Fatalf("eval --order %s --json: exit %d\n%s%s", c.order, r.code, r.stdout, r.stderr)
		}
	}
	pct := func(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }
	trainRow := tableRow(t, r0.stdout, "shuffle")
	if len(trainRow) != 6 || trainRow[1] != "idx:"+data || trainRow[5] != pct(seq.Accuracy) {
		t.Errorf("train prints %q, want variant shuffle, data idx:%s and the test accuracy %s", trainRow, data, pct(seq.Accuracy))
	}
	r = cli(t, nil, "--store", store, "store", "ls")
	if got := tableRow(t, r.stdout, "m"); r.code != 0 || len(got) != 9 ||
		strings.Join(got[:8], " ") != strings.Join([]string{"m", "shuffle", "complete", "idx:" + data, "3", "16", trainRow[4], pct(seq.Accuracy)}, " ") {
		t.Errorf("store ls: exit %d, m's row %q, want name m, shuffle, complete, idx:%s, 3 blocks, dim 16, val %s, test %s\n%s%s",
			r.code, got, data, trainRow[4], pct(seq.Accuracy), r.stdout, r.stderr)
	}
	r = cli(t, nil, "--store", store, "store", "show", "m")
	for _, want := range [][]string{{"model m", "status", "complete"}, {"model m", "variant", "shuffle"},
		{"model m", "data", "idx:" + data}, {"model m", "sizes", "dim 16, heads 2, mlp 24, depth 3, classes 4"},
		{"model m", "test_accuracy", pct(seq.Accuracy)}, {"plan", "stem", "m", "-"}, {"plan", "0", "m", "0"},
		{"plan", "1", "m", "1"}, {"plan", "2", "m", "2"}, {"plan", "head", "m", "-"}} {
		got := tableRow(t, tableTitled(t, r.stdout, want[0]), want[1])
		if want = want[1:]; len(got) < len(want) || strings.Join(got[:len(want)], " ") != strings.Join(want, " ") {
			t.Errorf("store show m: row %q, want it to begin %q", got, want)
		}
	}
	if r.code != 0 || !strings.HasPrefix(r.stdout, "model m\n") {
		t.Errorf("store show m: exit %d, does not begin with the title \"model m\"\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, nil, "--store", store, "eval", "m", "--order", "reversed")
	if got := tableRow(t, r.stdout, "m"); r.code != 0 || strings.Join(got, " ") != strings.Join([]string{"m", "idx:" + data, "test", "reversed", pct(rev.Accuracy), pct(0), "1", "80"}, " ") {
		t.Errorf("eval --order reversed: exit %d, row %q, want m on the 80 test images reversed at %s\n%s%s", r.code, got, pct(rev.Accuracy), r.stdout, r.stderr)
	}
	out := filepath.Join(t.TempDir(), "m.safetensors")
	if r := cli(t, nil, "--store", store, "store", "export", "m", out); r.code != 0 {
		t.Errorf("export: %s", r.stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Size() < 1000 {
		t.Errorf("export wrote %v, %v", st, err)
	}
}

// tableRow is the row of a printed table whose first cell is first, cell by
// cell; it fails t when no row or several rows begin with it.
func tableRow(t *testing.T, out, first string) []string {
	t.Helper()
	var found []string
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		sep := "│"
		if !strings.Contains(line, sep) {
			sep = "|"
		}
		cells := strings.Split(strings.Trim(line, sep), sep)
		if len(cells) < 2 {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		if cells[0] == first {
			if found != nil {
				t.Errorf("two rows begin with %q:\n%s", first, out)
			}
			found = cells
		}
	}
	if found == nil {
		t.Errorf("no row begins with %q:\n%s", first, out)
	}
	return found
}

// tableTitled is the table printed under the line title: the lines after
// it up to the next line that is not part of a table.
func tableTitled(t *testing.T, out, title string) string {
	t.Helper()
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		if line != title {
			continue
		}
		end := i + 1
		for end < len(lines) && strings.ContainsAny(lines[end][:min(len(lines[end]), 4)], "┌│├└+|") {
			end++
		}
		return strings.Join(lines[i+1:end], "\n")
	}
	t.Errorf("no table titled %q:\n%s", title, out)
	return ""
}

func TestCLIBadInput(t *testing.T) {
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 160, 40, 1); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, nil, tinyTrainArgs(store, data, "m")...); r.code != 0 {
		t.Fatalf("train: %s", r.stderr)
	}
	manifest := filepath.Join(store, "models", "m.json")
	before, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}

	failsCleanly(t, cli(t, nil, tinyTrainArgs(store, data, "m")...), "already exists")
	failsCleanly(t, cli(t, nil, "--store", store, "eval", "m", "--order", "0,9"), "block 9 does not exist")
	failsCleanly(t, cli(t, nil, "--store", store, "train", "x", "--data", "imagenet"), "imagenet")
	failsCleanly(t, cli(t, []string{"FRANKENVIT_FASHION_MNIST_DIR=" + t.TempDir()}, "--store", store, "train", "x",
		"--data", "fashion-mnist"), "apt-get install dataset-fashion-mnist")
	failsCleanly(t, cli(t, nil, "--store", store, "train", "x", "--variant", "sideways"), "unknown variant")

	truncated := t.TempDir()
	if err := synth.Stripes(truncated, 160, 40, 1); err != nil {
		t.Fatal(err)
	}
	labels := filepath.Join(truncated, "t10k-labels-idx1-ubyte")
	raw, _ := os.ReadFile(labels)
	os.WriteFile(labels, raw[:len(raw)-7], 0o644)
	failsCleanly(t, cli(t, nil, tinyTrainArgs(store, truncated, "y")...), "t10k-labels")

	mislabelled := t.TempDir()
	if err := synth.Stripes(mislabelled, 160, 40, 1); err != nil {
		t.Fatal(err)
	}
	images := filepath.Join(mislabelled, "train-images-idx3-ubyte")
	raw, _ = os.ReadFile(images)
	raw[3] = 0x01 // the magic of a label file
	os.WriteFile(images, raw, 0o644)
	failsCleanly(t, cli(t, nil, tinyTrainArgs(store, mislabelled, "z")...), "train-images")

	after, _ := os.ReadFile(manifest)
	if !bytes.Equal(before, after) {
		t.Error("a failed command changed the stored manifest")
	}
	entries, _ := os.ReadDir(filepath.Join(store, "models"))
	if len(entries) != 1 {
		t.Errorf("failed commands left %d manifests, want 1", len(entries))
	}
}
