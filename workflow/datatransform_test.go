package workflow

import (
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// A model trained on a derived task stores the derived spec as its data set,
// and eval of it reads the data under the same transform.
func TestTrainEvalDerivedTask(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	req := tinyRequest("rot", dir, vit.Baseline)
	spec := "idx:" + dir + "@rot90"
	req.Data.Spec = spec
	out, err := Train(s, req)
	if err != nil {
		t.Fatal(err)
	}
	// Under rot90 the stripes become vertical bands: still four easy classes.
	if out.Data != spec || out.TestAccuracy < 0.9 {
		t.Errorf("trained on %q to test accuracy %.3f, want %q and >= 0.9", out.Data, out.TestAccuracy, spec)
	}
	man, err := s.Get("rot")
	if err != nil || man.Data != spec {
		t.Fatalf("manifest data %q, %v: want %q", man.Data, err, spec)
	}
	ev, err := Eval(s, EvalRequest{Name: "rot", Split: "test", Order: "sequential"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Data != spec || ev.Accuracy != out.TestAccuracy {
		t.Errorf("eval on %q scores %v, training scored %v on %q", ev.Data, ev.Accuracy, out.TestAccuracy, spec)
	}
	// The untransformed data (horizontal bands) is another task to this model.
	plain, err := Eval(s, EvalRequest{Name: "rot", Data: "idx:" + dir, Split: "test", Order: "sequential"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rot90 model: %.3f on %s, %.3f on the untransformed data", ev.Accuracy, spec, plain.Accuracy)
	if plain.Accuracy > ev.Accuracy-0.3 {
		t.Errorf("the rot90 model scores %.3f on untransformed stripes, %.3f on rotated ones: the transform is not applied", plain.Accuracy, ev.Accuracy)
	}
}
