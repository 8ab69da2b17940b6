package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
)

// `store show` prints the recipe a merge stored with its model; a trained
// model has none and shows no recipe table.
func TestCLIStoreShowRecipe(t *testing.T) {
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 320, 80, 1); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, nil, tinyPopulationArgs(store, data, "p")...); r.code != 0 {
		t.Fatalf("population: %s", r.stderr)
	}
	for _, args := range [][]string{
		{"merge", "fr", "--from", "p", "--count", "2", "--seed", "5", "--eval=false"},
		{"merge", "gs", "--from", "p", "--method", "greedy-soup"},
		{"merge", "al", "--from", "p", "--method", "align", "--eval=false"},
	} {
		if r := cli(t, nil, append([]string{"--store", store}, args...)...); r.code != 0 {
			t.Fatalf("%v: exit %d: %s", args, r.code, r.stderr)
		}
	}
	// The plan the merge recorded, read back from the manifest.
	show := cli(t, nil, "--store", store, "store", "show", "fr-1", "--json")
	var man struct {
		Recipe struct {
			Method string `json:"method"`
			Splice struct {
				Stem   string `json:"stem"`
				Blocks []struct {
					Model string `json:"model"`
					Index int    `json:"index"`
				} `json:"blocks"`
			} `json:"splice"`
		} `json:"recipe"`
	}
	if show.code != 0 || json.Unmarshal([]byte(show.stdout), &man) != nil || man.Recipe.Method != "random" || len(man.Recipe.Splice.Blocks) != 3 {
		t.Fatalf("store show --json: exit %d, %+v\n%s", show.code, man, show.stdout)
	}
	plan := "stem " + man.Recipe.Splice.Stem + ", head " + man.Recipe.Splice.Stem + ":"
	for _, b := range man.Recipe.Splice.Blocks {
		plan += " " + b.Model + "[" + string(rune('0'+b.Index)) + "]"
	}
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"fr-1", []string{"recipe (merge --method random)", "p-0, p-1, p-2", "1 (0-based, of --count)", plan}},
		{"gs", []string{"recipe (merge --method greedy-soup)", "candidate p-", "soup validation score"}},
		{"al-0", []string{"recipe (merge --method align)", "reference", "aligned p-1", "aligned p-2", "as al-2: weight cosine",
			"stem p-0, head p-0: p-0[0] p-0[1] p-0[2]"}},
		{"al-2", []string{"recipe (merge --method align)", "aligned p-2", "store show --json"}},
	} {
		r := cli(t, nil, "--store", store, "store", "show", tc.name)
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("store show %s: exit %d: %s", tc.name, r.code, r.stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("store show %s lacks %q:\n%s", tc.name, w, r.stdout)
			}
		}
	}
	if r := cli(t, nil, "--store", store, "store", "show", "p-1"); r.code != 0 || strings.Contains(r.stdout, "recipe") ||
		!strings.Contains(r.stdout, "training history") {
		t.Errorf("a trained model: exit %d\n%s", r.code, r.stdout)
	}
	failsCleanly(t, cli(t, nil, "--store", store, "store", "show", "nobody"), "nobody")
}
