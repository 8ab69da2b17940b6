package main

import (
	"bytes"
	"encoding/json"
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
	r := cli(t, nil, tinyTrainArgs(store, data, "m")...)
	if r.code != 0 || !strings.Contains(r.stdout, "TEST ACC") {
		t.Fatalf("train: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = cli(t, nil, "--store", store, "eval", "m", "--order", "random:3", "--json")
	var ev struct {
		Accuracy    float64 `json:"accuracy"`
		AccuracyStd float64 `json:"accuracy_std"`
		Orders      [][]int `json:"orders"`
	}
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &ev) != nil || len(ev.Orders) != 3 || ev.Accuracy <= 0.5 {
		t.Fatalf("eval --json: exit %d, %+v\n%s%s", r.code, ev, r.stdout, r.stderr)
	}
	for _, args := range [][]string{{"store", "ls"}, {"store", "show", "m"}, {"eval", "m", "--order", "reversed"}} {
		if r := cli(t, nil, append([]string{"--store", store}, args...)...); r.code != 0 || !strings.Contains(r.stdout, "m") {
			t.Errorf("%v: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	out := filepath.Join(t.TempDir(), "m.safetensors")
	if r := cli(t, nil, "--store", store, "store", "export", "m", out); r.code != 0 {
		t.Errorf("export: %s", r.stderr)
	}
	if st, err := os.Stat(out); err != nil || st.Size() < 1000 {
		t.Errorf("export wrote %v, %v", st, err)
	}
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
