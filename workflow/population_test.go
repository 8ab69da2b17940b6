package workflow

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// TestPopulationRerunWithOtherSettingsRefused: a rerun of a population whose
// entry changed (here the members' epochs, then the width) does not report
// the members trained under the old settings; the same request reuses them.
func TestPopulationRerunWithOtherSettingsRefused(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	base := tinyRequest("", dir, vit.Shuffle)
	base.Options.Epochs = 1
	req := PopulationRequest{Prefix: "p", Size: 2, ParentEpochs: 1, Member: -1, Base: base, RandomOrders: 2}
	if _, err := Population(s, req); err != nil {
		t.Fatal(err)
	}
	// Models and weights; the population's summary record is rewritten
	// (its "updated" time) by every run.
	snapshot := func() string {
		return string(snapshotDir(t, filepath.Join(s.Dir, "models"))) + string(snapshotDir(t, filepath.Join(s.Dir, "blobs")))
	}
	before := snapshot()
	if _, err := Population(s, req); err != nil {
		t.Fatalf("the same request again: %v", err)
	}
	if snapshot() != before {
		t.Error("rerunning the same population changed its models")
	}
	more := req
	more.Base.Options.Epochs = 2
	_, err := Population(s, more)
	if err == nil || !strings.Contains(err.Error(), "model p-0 is complete but was trained with other settings") ||
		!strings.Contains(err.Error(), `"epochs":1`) || strings.Contains(err.Error(), "\n") {
		t.Errorf("members' epochs changed: got %v", err)
	}
	wider := req
	wider.Base.Config.Dim = 32
	_, err = Population(s, wider)
	if err == nil || !strings.Contains(err.Error(), "model p-parent is complete but was trained with other settings (model [") {
		t.Errorf("width changed: got %v", err)
	}
	if snapshot() != before {
		t.Error("a refused population changed the models")
	}
}

// TestPopulationMetricsUnderLimit: with a data limit, a member's accuracy
// under random orders is measured on the test images its sequential test
// accuracy was (the first Limit), not on the whole test split.
func TestPopulationMetricsUnderLimit(t *testing.T) {
	dir := stripesDir(t) // 160 test images
	s := openStore(t)
	base := tinyRequest("", dir, vit.Shuffle)
	base.Options.Epochs = 1
	base.Data.Limit = 40
	req := PopulationRequest{Prefix: "p", Size: 1, ParentEpochs: 1, Member: -1, Base: base, RandomOrders: 2}
	if _, err := Population(s, req); err != nil {
		t.Fatal(err)
	}
	man, err := s.Get("p-0")
	if err != nil {
		t.Fatal(err)
	}
	order := EvalRequest{Name: "p-0", Split: "test", Order: "random:2", Seed: base.Options.Seed}
	limited := order
	limited.Limit = 40
	want, err := Eval(s, limited)
	if err != nil {
		t.Fatal(err)
	}
	whole, err := Eval(s, order)
	if err != nil {
		t.Fatal(err)
	}
	if want.Images != 40 || whole.Images != 160 {
		t.Fatalf("evaluated %d and %d images, want 40 and 160", want.Images, whole.Images)
	}
	if got := man.Metrics["test_accuracy_random"]; got != want.Accuracy {
		t.Fatalf("test_accuracy_random = %v; on the first 40 test images %v, on all 160 %v", got, want.Accuracy, whole.Accuracy)
	}
}
