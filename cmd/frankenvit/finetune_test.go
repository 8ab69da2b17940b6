package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/trainer"
)

// TestCLIFineTuneFlags: --preset paper sets the paper's recipe under the
// flags given beside it; with --init the architecture flags, and with
// population --parent the parent's epochs, are refused; --image on in-memory
// data is refused.
func TestCLIFineTuneFlags(t *testing.T) {
	data, store := t.TempDir(), filepath.Join(t.TempDir(), "store")
	if err := synth.Stripes(data, 160, 40, 1); err != nil {
		t.Fatal(err)
	}
	if r := cli(t, nil, tinyTrainArgs(store, data, "pre")...); r.code != 0 {
		t.Fatalf("train: %s", r.stderr)
	}
	r := cli(t, nil, "--store", store, "train", "ft", "--init", "pre", "--data", "idx:"+data, "--preset", "paper", "--lr", "5e-4",
		"--epochs", "1", "--micro-batch", "16", "--variant", "shuffle")
	if r.code != 0 {
		t.Fatalf("fine-tune: %s", r.stderr)
	}
	raw, err := os.ReadFile(filepath.Join(store, "models", "ft.json"))
	if err != nil {
		t.Fatal(err)
	}
	var man struct{ Training modelstore.TrainingRecord }
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	o := man.Training.Options
	if o.LR != 5e-4 || o.Decay != trainer.DecayLinear || o.Batch != 128 || o.WeightDecay != 0 || o.WarmupFrac != 0 ||
		o.FinalLRFrac != 0 || o.Augment != trainer.AugmentNone || o.MicroBatch != 16 || man.Training.Init != "pre" {
		t.Errorf("paper preset with --lr 5e-4: recorded %+v", o)
	}
	failsCleanly(t, cli(t, nil, "--store", store, "train", "x", "--init", "pre", "--data", "idx:"+data, "--dim", "32"),
		"--dim does not apply with --init")
	failsCleanly(t, cli(t, nil, "--store", store, "train", "x", "--data", "idx:"+data, "--preset", "fast"), `--preset "fast"`)
	failsCleanly(t, cli(t, nil, "--store", store, "train", "x", "--data", "idx:"+data, "--image", "32x32"),
		"--image applies to folder:DIR data only")
	failsCleanly(t, cli(t, nil, "--store", store, "population", "p", "--parent", "pre", "--data", "idx:"+data, "--parent-epochs", "2"),
		"--parent-epochs does not apply with --parent")
	failsCleanly(t, cli(t, nil, "--store", store, "population", "p", "--parent", "nope", "--data", "idx:"+data, "--epochs", "1"),
		"nope")
	failsCleanly(t, cli(t, nil, "--store", store, "population", "p", "--size", "2000000000", "--data", "idx:"+data, "--epochs", "1"),
		"--size must be from 1 to 10000, got 2000000000")
	failsCleanly(t, cli(t, nil, "--store", store, "train", "x", "--data", "idx:"+data, "--dim", "4000000000"),
		"dim 4000000000 is over the limit of 65536")
	if _, err := os.Stat(filepath.Join(store, "models", "x.json")); err == nil {
		t.Error("a refused training stored a model")
	}
}
