package study

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/trainer"
)

// TestStudyFineTunesFromAParent: a population on a full-size folder (image),
// then a LayerShuffle population fine-tuned from its parent at another size
// with a new head and the paper's preset, as `population --parent` does;
// Check names a missing parent, image on in-memory data and a bad preset.
func TestStudyFineTunesFromAParent(t *testing.T) {
	four, two := filepath.Join(t.TempDir(), "four"), filepath.Join(t.TempDir(), "two")
	if err := synth.StripesFolder(four, 320, 40, 40, 1); err != nil {
		t.Fatal(err)
	}
	if err := synth.StripesFolder(two, 160, 40, 48, 2); err != nil {
		t.Fatal(err)
	}
	for _, split := range []string{"train", "test"} {
		for _, c := range []string{"2", "3"} {
			if err := os.RemoveAll(filepath.Join(two, split, c)); err != nil {
				t.Fatal(err)
			}
		}
	}
	text := []byte(fmt.Sprintf(`name: ft
seed: 2
orders: 2
model: {depth: 3, dim: 16, heads: 2, mlp: 24, patch: 4}
train: {epochs: 1, parent_epochs: 3, batch: 16, lr: 0.003, augment: none}
populations:
  - {name: pre, variant: baseline, size: 1, data: "folder:%s", image: 16x16}
  - name: ft
    variant: shuffle
    size: 2
    data: "folder:%s"
    parent: pre-parent
    image: 24x24
    new_head: true
    train: {preset: paper, micro_batch: 8, batch: 16, epochs: 2}
`, four, two))
	f, err := Parse(text, "ft.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	plan, err := Check(f, "ft.yaml", text, s)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	if _, err := Run(s, plan, filepath.Join(t.TempDir(), "out"), &log); err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	st, err := modelstore.Load(s, "ft-1")
	if err != nil {
		t.Fatal(err)
	}
	c, o := st.Model.Config, st.Records.Training.Options
	if st.Manifest.Parent != "pre-parent" || c.ImageHeight != 24 || c.Classes != 2 || c.Variant != "shuffle" ||
		o.LR != 1e-4 || o.Decay != trainer.DecayLinear || o.MicroBatch != 8 || o.Batch != 16 || o.WeightDecay != 0 {
		t.Errorf("ft-1: parent %s, config %+v, options %+v", st.Manifest.Parent, c, o)
	}
	if s.Exists("ft-parent") {
		t.Error("a population with a given parent trained its own")
	}

	bad := []byte(strings.NewReplacer("parent: pre-parent", "parent: nowhere", "preset: paper", "preset: papr",
		"  - {name: pre, variant: baseline, size: 1, data: \"folder:"+four+"\", image: 16x16}",
		"  - {name: pre, variant: baseline, size: 1, data: mnist, image: 16x16}").Replace(string(text)))
	fb, err := Parse(bad, "bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Check(fb, "bad.yaml", bad, openStore(t))
	for _, want := range []string{"parent nowhere is neither in the store", `preset "papr"`, "image applies to folder:DIR data only, not mnist"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Check of a broken study: %v; want %q", err, want)
		}
	}
}

// mergeTrain: preset paper sets the paper's recipe, fields beside it win,
// and an explicit cosine decay is recorded as the default ("").
func TestMergeTrainPreset(t *testing.T) {
	o, parentEpochs := trainer.DefaultOptions(), 0
	mergeTrain(&o, &parentEpochs, TrainSpec{Preset: "paper", LR: 3e-4, Decay: "cosine", MicroBatch: 4})
	if o.LR != 3e-4 || o.Decay != "" || o.Batch != 128 || o.WeightDecay != 0 || o.MicroBatch != 4 || o.Augment != trainer.AugmentNone {
		t.Errorf("options %+v", o)
	}
	o = trainer.DefaultOptions()
	mergeTrain(&o, &parentEpochs, TrainSpec{Preset: "paper"})
	if o.Decay != trainer.DecayLinear || o.LR != 1e-4 {
		t.Errorf("preset alone: %+v", o)
	}
}
