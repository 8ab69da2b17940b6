package workflow

import (
	"math"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/sweep"
	"github.com/frankenvit/frankenvit/vit"
)

// The sweep merges as `frankenvit merge` does: its TIES at density 0.5 has
// the accuracy of the stored merge of the same members, base and weights.
func TestBenchMergeMethodsSameTask(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	tinyPopulation(t, s, dir, "p", 3, vit.Shuffle, false)
	doc, err := Sweep(s, SweepRequest{Kind: sweep.MergeMethods, Options: sweep.Options{Names: []string{"p"}, Methods: []string{"ties", "slerp"},
		Orders: 1, Seeds: 1, Seed: 3}})
	if err != nil {
		t.Fatal(err)
	}
	got := -1.0
	roles := map[string]bool{}
	for _, smp := range doc.Samples {
		roles[smp.Method] = true
		if smp.Method == "ties" && smp.Param == "density" && smp.Value == 0.5 && smp.Kind == "sequential" {
			got = smp.Acc
		}
	}
	for _, want := range []string{sweep.RoleIndividual, sweep.RoleParent, "ties", "slerp"} {
		if !roles[want] {
			t.Errorf("no %s samples (have %v)", want, roles)
		}
	}
	if _, err := Merge(s, MergeRequest{Out: "t", From: []string{"p"}, Method: "ties", Params: methods.Params{"density": 0.5}}); err != nil {
		t.Fatal(err)
	}
	ev, err := Eval(s, EvalRequest{Name: "t", Split: "test", Order: "sequential"})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(got-ev.Accuracy) > 1e-12 {
		t.Errorf("sweep's ties density=0.5 %v, stored merge %v", got, ev.Accuracy)
	}
}

func TestBenchMergeMethodsRefuses(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	tinyPopulation(t, s, dir, "p", 1, vit.Shuffle, false)
	_, err := Sweep(s, SweepRequest{Kind: sweep.MergeMethods, Options: sweep.Options{Names: []string{"p", "p-0"}, Methods: []string{"model_stock"}, Seeds: 1}})
	if err == nil || !strings.Contains(err.Error(), "p-0 is not a population") {
		t.Errorf("a model named as a population: %v", err)
	}
	_, err = Sweep(s, SweepRequest{Kind: sweep.MergeMethods, Options: sweep.Options{Names: []string{"p"}, Methods: []string{"model_stock", "nuslerp"}, Seeds: 1}})
	if err == nil || !strings.Contains(err.Error(), "model_stock merges at least 2") || !strings.Contains(err.Error(), "nuslerp merges two members") {
		t.Errorf("a one-member population: %v", err)
	}
}
