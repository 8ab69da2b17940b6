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

// On a multi-task population the sweep measures each task with its own head,
// merges keeping each task's head rows from its child (as `merge` does:
// the sweep's accuracy on a task equals eval --task of the stored merge), and
// shows the FusionBench references.
func TestBenchMergeMethodsMultiTask(t *testing.T) {
	s, req := trainedTaskPopulation(t)
	doc, err := Sweep(s, SweepRequest{Kind: sweep.MergeMethods, Options: sweep.Options{Names: []string{"mt"}, Methods: []string{"task_arithmetic"},
		Orders: 1, Seeds: 1}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Merge(s, MergeRequest{Out: "ta", From: []string{"mt"}, Method: "task_arithmetic", Params: methods.Params{"lambda": 0.3}}); err != nil {
		t.Fatal(err)
	}
	roles := map[string]map[string]bool{}
	for _, smp := range doc.Samples {
		if roles[smp.Method] == nil {
			roles[smp.Method] = map[string]bool{}
		}
		roles[smp.Method][smp.Task] = true
		if smp.Method != "task_arithmetic" || smp.Value != 0.3 || smp.Kind != "sequential" {
			continue
		}
		ev, err := Eval(s, EvalRequest{Name: "ta", Task: smp.Task, Split: "test", Order: "sequential"})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(ev.Accuracy-smp.Acc) > 1e-12 {
			t.Errorf("task %s: sweep %v, eval --task of the stored merge %v", smp.Task, smp.Acc, ev.Accuracy)
		}
	}
	for _, role := range []string{sweep.RoleIndividual, sweep.RoleParent, sweep.RoleMultiTask, sweep.RolePretrained, "task_arithmetic"} {
		if len(roles[role]) != len(req.Tasks) {
			t.Errorf("%s measured on tasks %v, want all %d", role, roles[role], len(req.Tasks))
		}
	}
	rows := sweep.SummarizeMethods(doc)
	avg := 0
	for _, r := range rows {
		if r.Task == sweep.AverageTask && r.Order == "sequential" {
			avg++
			if r.Method == sweep.RoleIndividual && math.Abs(r.Normalized-1) > 1e-12 {
				t.Errorf("individual normalized %v, want 1", r.Normalized)
			}
		}
	}
	// individual, parent, multi-task, pretrained, task_arithmetic defaults and 4 lambdas
	if avg != 9 {
		t.Errorf("%d average rows, want 9", avg)
	}
}

// A merge of a multi-task population's children is evaluated on every task
// through that task's head: its row is the mean of eval --task over the
// tasks (the merge used to refuse, the children having different data).
func TestMergeMultiTaskEvaluatesEveryTask(t *testing.T) {
	s, req := trainedTaskPopulation(t)
	out, err := Merge(s, MergeRequest{Out: "ta", From: []string{"mt"}, Method: "task_arithmetic", Params: methods.Params{"lambda": 0.3}, Eval: true, Orders: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var want float64
	for _, task := range req.Tasks {
		ev, err := Eval(s, EvalRequest{Name: "ta", Task: task, Split: "test", Order: "sequential"})
		if err != nil {
			t.Fatal(err)
		}
		want += ev.Accuracy / float64(len(req.Tasks))
	}
	if got := out.Merged[0].TestSequential; math.Abs(got-want) > 1e-12 || !strings.Contains(out.Data, "mean over 3 tasks") {
		t.Errorf("merged %v (data %q), mean of eval --task %v", got, out.Data, want)
	}
	if _, err := Merge(s, MergeRequest{Out: "gs", From: []string{"mt"}, Method: "greedy-soup", Eval: true}); err == nil || !strings.Contains(err.Error(), "give --data with one of the tasks") {
		t.Errorf("greedy soup of multi-task children: %v", err)
	}
}
