package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/internal/synth"
)

func blobCount(t *testing.T, store string) int {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(store, "blobs", "sha256"))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func readManifest(t *testing.T, store, name string) *checkpoint.Manifest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(store, "models", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := checkpoint.DecodeManifest(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestCLIPrune(t *testing.T) {
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 320, 80, 1); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, nil, tinyTrainArgs(store, data, "m")...); r.code != 0 {
		t.Fatalf("train: %s", r.stderr)
	}
	src := readManifest(t, store, "m")
	blobs := blobCount(t, store)
	for _, strategy := range []string{"last", "first", "random", "every-other", "greedy", "influence", "angular"} {
		out := "m-" + strategy
		r := cli(t, nil, "--store", store, "prune", "m", out, "--remove", "2", "--strategy", strategy, "--seed", "3", "--json")
		var res struct {
			Plan   string `json:"plan"`
			Recipe struct {
				Strategy string    `json:"strategy"`
				Remove   int       `json:"remove"`
				Kept     []int     `json:"kept"`
				Scores   []float64 `json:"scores"`
			} `json:"recipe"`
			TestAccuracy float64 `json:"test_accuracy"`
		}
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil {
			t.Fatalf("%s: exit %d\n%s%s", strategy, r.code, r.stdout, r.stderr)
		}
		man := readManifest(t, store, out)
		if len(man.Blocks) != 1 || len(res.Recipe.Kept) != 1 || man.Blocks[0] != src.Blocks[res.Recipe.Kept[0]] ||
			man.Stem != src.Stem || man.Head != src.Head || man.Parent != "m" {
			t.Errorf("%s: manifest plan %+v does not point at m's kept block %v", strategy, man.Blocks, res.Recipe.Kept)
		}
		if !strings.Contains(string(man.Recipe), `"strategy":"`+strategy+`"`) || man.Metrics["test_accuracy"] != res.TestAccuracy {
			t.Errorf("%s: recipe %s, metrics %v", strategy, man.Recipe, man.Metrics)
		}
		if needsScores := strategy == "greedy" || strategy == "influence" || strategy == "angular"; needsScores != (len(res.Recipe.Scores) > 0) {
			t.Errorf("%s: scores %v", strategy, res.Recipe.Scores)
		}
		ev := cli(t, nil, "--store", store, "eval", out, "--json")
		var e struct{ Accuracy float64 }
		if ev.code != 0 || json.Unmarshal([]byte(ev.stdout), &e) != nil || e.Accuracy != res.TestAccuracy {
			t.Errorf("%s: eval of the pruned model: exit %d, %v vs %v\n%s", strategy, ev.code, e.Accuracy, res.TestAccuracy, ev.stderr)
		}
	}
	if got := blobCount(t, store); got != blobs {
		t.Errorf("pruning wrote %d blobs; a pruned model must reuse its source's", got-blobs)
	}
	if r := cli(t, nil, "--store", store, "store", "verify"); r.code != 0 {
		t.Errorf("store verify after pruning: %s%s", r.stdout, r.stderr)
	}

	before, _ := os.ReadDir(filepath.Join(store, "models"))
	failsCleanly(t, cli(t, nil, "--store", store, "prune", "m", "x", "--remove", "3"), "--remove 3")
	failsCleanly(t, cli(t, nil, "--store", store, "prune", "m", "x", "--remove", "0"), "--remove 0")
	failsCleanly(t, cli(t, nil, "--store", store, "prune", "m", "x", "--strategy", "sideways"), "unknown pruning strategy")
	failsCleanly(t, cli(t, nil, "--store", store, "prune", "m", "m-last"), "already exists")
	failsCleanly(t, cli(t, nil, "--store", store, "prune", "nope", "x"), "nope")
	failsCleanly(t, cli(t, nil, "--store", store, "prune", "m", "x", "--strategy", "greedy", "--split", "test"), "--split")
	failsCleanly(t, cli(t, nil, "--store", store, "prune", "m", "../x"), "invalid model name")
	after, _ := os.ReadDir(filepath.Join(store, "models"))
	if len(after) != len(before) {
		t.Errorf("failed prunes left %d new manifests", len(after)-len(before))
	}
}
