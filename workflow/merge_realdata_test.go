package workflow

import (
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// TestMergeOnMNIST splices the children of one parent on real data: the
// Frankenstein models must work about as well as the children (their
// blocks share the parent's basis), far above chance.
func TestMergeOnMNIST(t *testing.T) {
	if testing.Short() {
		t.Skip("trains on MNIST (-short)")
	}
	s := openStore(t)
	base := tinyRequest("", "", vit.Shuffle)
	base.Config = vit.Config{Patch: 7, Dim: 32, Heads: 2, MLP: 64, Depth: 4, Variant: vit.Shuffle}
	base.Data = DataOptions{Spec: "mnist", ValFrac: 0.2, Limit: 2500}
	base.Options.Epochs, base.Options.Batch, base.Options.LR = 1, 32, 3e-3
	if _, err := Population(s, PopulationRequest{Prefix: "m", Size: 3, ParentEpochs: 3, Member: -1, Base: base, RandomOrders: 2}); err != nil {
		t.Fatal(err)
	}
	out, err := Merge(s, MergeRequest{Out: "fr", From: []string{"m"}, Method: "random", Count: 4, Seed: 1, Eval: true, Orders: 3})
	if err != nil {
		t.Fatal(err)
	}
	var children, merged []float64
	for _, m := range out.Sources {
		children = append(children, m.TestSequential)
	}
	for _, m := range out.Merged {
		merged = append(merged, m.TestSequential)
	}
	cm, _ := MeanStd(children)
	mm, ms := MeanStd(merged)
	t.Logf("MNIST (2500 images): children %.3f, Frankenstein models %.3f ± %.3f", cm, mm, ms)
	if mm < 0.25 || mm < cm-0.1 { // chance is 0.1; a ViT learns slowly from 2000 images
		t.Errorf("Frankenstein models of one parent's children: %.3f, the children %.3f", mm, cm)
	}
}
