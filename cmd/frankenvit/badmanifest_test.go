package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
)

// TestCLIBadManifestsRefused: a manifest edited into something no model can
// run with is refused by every command that reads it, with one line naming
// the model and the field, exit 1, and the store unchanged, byte for byte.
func TestCLIBadManifestsRefused(t *testing.T) {
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 160, 40, 1); err != nil {
		t.Fatal(err)
	}
	args := append(tinyTrainArgs(store, data, "m"), "--epochs", "1")
	if r := cli(t, nil, args...); r.code != 0 {
		t.Fatalf("train: %s", r.stderr)
	}
	manifest := filepath.Join(store, "models", "m.json")
	good, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, field string
		value       any // the field's new JSON value
		want        string
	}{
		{"std 0", "normalization", map[string]any{"mean": []float64{0.1}, "std": []float64{0}},
			"model m: manifest field normalization: channel 0 has std 0"},
		{"two channels", "normalization", map[string]any{"mean": []float64{0.1, 0.2}, "std": []float64{1, 1}},
			"model m: manifest field normalization: 2 mean(s) and 2 std(s) for images of 1 channel(s)"},
		{"std overflows", "normalization", map[string]any{"mean": []float64{0.1}, "std": []float64{1e39}},
			"model m: manifest field normalization"},
		{"config not an object", "config", "deep", "model m: manifest field config"},
		{"training record misspelt", "training", map[string]any{"valfrac": 0.2}, "model m: manifest field training: unknown field"},
		{"recipe not a record", "recipe", []int{1, 2}, "model m: manifest field recipe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var man map[string]any
			if err := json.Unmarshal(good, &man); err != nil {
				t.Fatal(err)
			}
			man[tc.field] = tc.value
			bad, err := json.MarshalIndent(man, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(manifest, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			before := storeFiles(t, store)
			for _, cmd := range [][]string{
				{"eval", "m"},
				{"eval", "m", "--split", "val", "--order", "random:2"},
				{"prune", "m", "m-pruned", "--remove", "1"},
				{"bench", "orders", "m", "--orders", "2"},
			} {
				r := cli(t, nil, append([]string{"--store", store}, cmd...)...)
				failsCleanly(t, r, tc.want)
				if r.code != 1 {
					t.Errorf("%v: exit %d, want 1", cmd, r.code)
				}
				if strings.Contains(r.stderr, "internal error") {
					t.Errorf("%v: a panic reached the command: %s", cmd, r.stderr)
				}
			}
			// The store's own commands name the problem too, and fail.
			show := cli(t, nil, "--store", store, "store", "show", "m")
			failsCleanly(t, show, tc.want)
			if !strings.Contains(show.stdout, "problem") {
				t.Errorf("store show prints no problem row:\n%s", show.stdout)
			}
			verify := cli(t, nil, "--store", store, "store", "verify")
			failsCleanly(t, verify, "store: model m: manifest: field "+tc.field)
			if after := storeFiles(t, store); after != before {
				t.Error("a refused command changed the store")
			}
		})
	}
}
