package workflow

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

func taskPopulationRequest(dir string) PopulationRequest {
	base := tinyRequest("", dir, vit.Shuffle)
	base.Options.Epochs, base.Options.Batch = 2, 16
	// Without weight decay a child's other tasks' head rows get no update at
	// all (zero gradient, zero Adam moments), so they stay the parent's bit
	// for bit; with decay AdamW shrinks them by (1 - lr*wd) every step, as
	// it decays every weight matrix (trainer.NewAdamW).
	base.Options.WeightDecay = 0
	tasks := []string{"idx:" + dir, "idx:" + dir + "@vflip", "idx:" + dir + "@transpose"}
	return PopulationRequest{Prefix: "mt", ParentEpochs: 4, Member: -1, Base: base, RandomOrders: 2, Tasks: tasks}
}

// trainedTaskPopulation trains the tiny three-task population "mt" of
// taskPopulationRequest in a fresh store.
func trainedTaskPopulation(t *testing.T) (*checkpoint.Store, PopulationRequest) {
	t.Helper()
	dir := t.TempDir()
	if err := synth.Stripes(dir, 240, 60, 1); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	req := taskPopulationRequest(dir)
	if _, err := Population(s, req); err != nil {
		t.Fatal(err)
	}
	return s, req
}

func loadStored(t *testing.T, s *checkpoint.Store, name string) *modelstore.Stored {
	t.Helper()
	st, err := modelstore.Load(s, name)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// headRows returns rows lo..hi of the head's weight and bias.
func headRows(m *vit.Model, lo, hi int) ([]float32, []float32) {
	D := m.Config.Dim
	return m.Head.W.Data()[lo*D : hi*D], m.Head.B.Data()[lo:hi]
}

func TestMultiTaskPopulation(t *testing.T) {
	dir := t.TempDir()
	if err := synth.Stripes(dir, 240, 60, 1); err != nil {
		t.Fatal(err)
	}
	s := openStore(t)
	req := taskPopulationRequest(dir)
	var log bytes.Buffer
	req.Log = &log
	sum, err := Population(s, req)
	if err != nil {
		t.Fatal(err)
	}
	tasks := req.Tasks
	const C = 4
	parent := loadStored(t, s, "mt-parent")
	if pc := parent.Model.Config; !slices.Equal(pc.Tasks, tasks) || pc.Classes != 3*C {
		t.Fatalf("parent config: tasks %v, classes %d", pc.Tasks, pc.Classes)
	}
	if parent.Manifest.Data != dataset.PoolSpec(tasks) {
		t.Errorf("parent data %q", parent.Manifest.Data)
	}
	for k, task := range tasks {
		child := loadStored(t, s, MemberName("mt", k))
		c := child.Model.Config
		if child.Manifest.Data != task || c.TaskIndex(child.Manifest.Data) != k || !slices.Equal(c.Tasks, tasks) || c.Classes != 3*C {
			t.Errorf("child %d: data %q, tasks %v, classes %d", k, child.Manifest.Data, c.Tasks, c.Classes)
		}
		if child.Manifest.Parent != "mt-parent" || child.Manifest.Seed != memberSeed(req.Base.Options.Seed, k) {
			t.Errorf("child %d: parent %q seed %d", k, child.Manifest.Parent, child.Manifest.Seed)
		}
		if string(child.Manifest.Normalization) != string(parent.Manifest.Normalization) {
			t.Errorf("child %d has its own normalisation, not its parent's", k)
		}
		for j := range tasks {
			cw, cb := headRows(child.Model, j*C, (j+1)*C)
			pw, pb := headRows(parent.Model, j*C, (j+1)*C)
			same := slices.Equal(cw, pw) && slices.Equal(cb, pb)
			if j != k && !same {
				t.Errorf("child %d: the head rows of task %d moved (no gradient and no decay should touch them)", k, j)
			}
			if j == k && same {
				t.Errorf("child %d: its own task's head rows did not move", k)
			}
		}
		// The probe: the parent's stem, blocks and final LayerNorm (the same
		// blobs), and only its task's head rows trained.
		probe := loadStored(t, s, ProbeName("mt", k))
		if probe.Manifest.Data != task || probe.Manifest.Stem.Blob != parent.Manifest.Stem.Blob {
			t.Errorf("probe %d: data %q, stem changed: %v", k, probe.Manifest.Data, probe.Manifest.Stem.Blob != parent.Manifest.Stem.Blob)
		}
		for i, b := range probe.Manifest.Blocks {
			if b.Blob != parent.Manifest.Blocks[i].Blob {
				t.Errorf("probe %d: block %d changed", k, i)
			}
		}
		if !slices.Equal(probe.Model.Head.NormW.Data(), parent.Model.Head.NormW.Data()) {
			t.Errorf("probe %d: the final LayerNorm changed", k)
		}
		for j := range tasks {
			qw, _ := headRows(probe.Model, j*C, (j+1)*C)
			pw, _ := headRows(parent.Model, j*C, (j+1)*C)
			if same := slices.Equal(qw, pw); same == (j == k) {
				t.Errorf("probe %d: task %d's head rows unchanged=%v", k, j, same)
			}
		}
	}
	mt := loadStored(t, s, MultiTaskName("mt"))
	if mt.Manifest.Data != dataset.PoolSpec(tasks) || mt.Manifest.Parent != "mt-parent" {
		t.Errorf("multi-task reference: data %q parent %q", mt.Manifest.Data, mt.Manifest.Parent)
	}
	if len(sum.PerTask) != 4*len(tasks) || len(sum.Members) != 2+2*len(tasks) {
		t.Fatalf("summary: %d per-task rows, %d models", len(sum.PerTask), len(sum.Members))
	}
	if r := sum.PerTask[1]; r.Task != tasks[0] || r.Model != "mt-0" || r.Role != "member" {
		t.Errorf("per-task row 1: %+v", r)
	}
	// Each row is the task head's accuracy on its task: equal to eval --task.
	for _, r := range sum.PerTask[:4] {
		ev, err := Eval(s, EvalRequest{Name: r.Model, Split: "test", Order: "sequential", Task: r.Task})
		if err != nil {
			t.Fatal(err)
		}
		if ev.Accuracy != r.TestSequential || ev.Images != 60 || ev.Task != r.Task {
			t.Errorf("%s on %s: summary %v, eval %v on %d images", r.Model, r.Task, r.TestSequential, ev.Accuracy, ev.Images)
		}
	}
	if avg := TaskAverages(sum); len(avg) != 4 {
		t.Errorf("averages: %+v", avg)
	}
	// The children learned their task (stripes are easy; chance is 0.25).
	for _, r := range sum.PerTask {
		if r.Role == "member" && r.TestSequential < 0.6 {
			t.Errorf("child %s reaches only %.2f on %s", r.Model, r.TestSequential, r.Task)
		}
	}

	// eval: a child defaults to its own task; an unknown task and a
	// single-task model's --task are refused naming what they have.
	ev, err := Eval(s, EvalRequest{Name: "mt-2", Split: "test", Order: "sequential"})
	if err != nil || ev.Task != tasks[2] || ev.Data != tasks[2] {
		t.Errorf("default task of mt-2: %+v, %v", ev, err)
	}
	ev, err = Eval(s, EvalRequest{Name: "mt-parent", Split: "val", Order: "sequential"})
	if err != nil || ev.Task != tasks[0] || ev.Images != 48 {
		t.Errorf("default task of the parent: %+v, %v", ev, err)
	}
	if _, err := Eval(s, EvalRequest{Name: "mt-0", Split: "test", Order: "sequential", Task: "mnist"}); err == nil ||
		!strings.Contains(err.Error(), "has no task \"mnist\"") || !strings.Contains(err.Error(), tasks[1]) {
		t.Errorf("unknown task: %v", err)
	}
	all, err := EvalTasks(s, EvalRequest{Name: "mt-mt", Split: "test", Order: "sequential"})
	if err != nil || len(all) != 3 || all[1].Task != tasks[1] {
		t.Errorf("all tasks: %v, %v", all, err)
	}

	// A rerun trains nothing; other settings are refused.
	log.Reset()
	if _, err := Population(s, req); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(log.String(), "training ") {
		t.Errorf("a rerun trained again:\n%s", log.String())
	}
	other := req
	other.Base.Options.Epochs = 3
	if _, err := Population(s, other); err == nil || !strings.Contains(err.Error(), "other settings") {
		t.Errorf("other epochs: %v", err)
	}
}

// TestSingleTaskModelRefusesTask: --task on a single-task model names its data.
func TestSingleTaskModelRefusesTask(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	tr := tinyRequest("one", dir, vit.Baseline)
	tr.Options.Epochs = 1
	if _, err := Train(s, tr); err != nil {
		t.Fatal(err)
	}
	_, err := Eval(s, EvalRequest{Name: "one", Split: "test", Order: "sequential", Task: "mnist"})
	if err == nil || !strings.Contains(err.Error(), "single-task") || !strings.Contains(err.Error(), "idx:"+dir) {
		t.Errorf("--task on a single-task model: %v", err)
	}
	if _, err := EvalTasks(s, EvalRequest{Name: "one", Split: "test", Order: "sequential"}); err == nil {
		t.Error("--task all on a single-task model was accepted")
	}
}

// TestMultiTaskPopulationBadInput: duplicate or unknown tasks, and tasks of
// other image shapes, are one error each and leave the store empty.
func TestMultiTaskPopulationBadInput(t *testing.T) {
	dir := t.TempDir()
	if err := synth.Stripes(dir, 40, 10, 1); err != nil {
		t.Fatal(err)
	}
	wide := t.TempDir()
	labels := []byte{0, 1, 2, 3, 0, 1, 2, 3, 0, 1}
	for _, prefix := range []string{"train", "t10k"} {
		if err := synth.WriteIDX(wide, prefix, make([]byte, 10*96), labels, 8, 12); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		tasks []string
		want  string
	}{
		{[]string{"idx:" + dir, "idx:" + dir}, "given twice"},
		{[]string{"idx:" + dir, "idx:" + dir + "@spin"}, "unknown transform"},
		{[]string{"idx:" + dir, "idx:" + wide}, "task idx:" + wide + " has 8x12x1 images"},
	} {
		s := openStore(t)
		req := taskPopulationRequest(dir)
		req.Tasks = tc.tasks
		_, err := Population(s, req)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%v: %v, want one line with %q", tc.tasks, err, tc.want)
		}
		if names, _ := s.List(); len(names) != 0 {
			t.Errorf("%v: the store holds %v", tc.tasks, names)
		}
	}
}
