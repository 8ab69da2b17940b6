package sweep

import (
	"bytes"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/datamerge"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

func TestMethodConfigs(t *testing.T) {
	all, err := MethodConfigs([]string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	byMethod := map[string][]MethodConfig{}
	for _, c := range all {
		byMethod[c.Method] = append(byMethod[c.Method], c)
	}
	for _, name := range methods.Names() {
		if len(byMethod[name]) == 0 {
			t.Errorf("method %s is not measured", name)
		}
	}
	// slerp's t has no default: grid values only; ties: defaults, then density.
	if got := byMethod["slerp"]; len(got) != 3 || got[0].Param != "t" {
		t.Errorf("slerp configs %+v, want t = 0.25, 0.5, 0.75 only", got)
	}
	ties := byMethod["ties"]
	if len(ties) != 4 || ties[0].Param != "" || ties[1].Label() != "ties density=0.2" || ties[3].Value != 0.8 {
		t.Errorf("ties configs %+v", ties)
	}
	if _, err := MethodConfigs([]string{"ties", "tiez", "slurp"}); err == nil || !strings.Contains(err.Error(), `"tiez", "slurp"`) {
		t.Errorf("unknown methods: %v", err)
	}
}

// methodsGroupOf builds a same-task group of tiny models sharing one test split.
func methodsGroupOf(t *testing.T, members int, split *dataset.Split) (MethodsGroup, map[string]*vit.Model) {
	t.Helper()
	models := map[string]*vit.Model{}
	subject := func(name string, seed uint64) Subject {
		m := tinyModel(t, name, 3, seed)
		models[name] = m
		return Subject{Group: "p", Name: name, Variant: "shuffle", Depth: 3,
			Load: func() (*Loaded, error) { return &Loaded{Model: m, Test: split, Norm: testNorm}, nil }}
	}
	g := MethodsGroup{Name: "p", Variant: "shuffle"}
	base := subject("p-parent", 100)
	g.Base = &base
	for i := 0; i < members; i++ {
		g.Members = append(g.Members, subject("p-"+string(rune('0'+i)), uint64(10+i)))
	}
	return g, models
}

func TestRunMethodsSameTask(t *testing.T) {
	split := randomSplit(200, 4)
	g, models := methodsGroupOf(t, 3, split)
	opt := Options{Names: []string{"p"}, Split: "test", Seed: 7, Orders: 2, Seeds: 2, Methods: []string{"linear", "dare_ties", "slerp"}}
	doc, err := RunMethods([]MethodsGroup{g}, opt, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// linear with weight 1 each, normalised, is the plain average: computed here.
	avg, _ := vit.NewModel("avg", models["p-0"].Config)
	for k, p := range avg.Params() {
		for i := range p.Data() {
			var s float32
			for _, n := range []string{"p-0", "p-1", "p-2"} {
				s += models[n].Params()[k].Data()[i]
			}
			p.Data()[i] = s / 3
		}
	}
	seq, _ := avg.PlanOf([]int{0, 1, 2})
	wantAcc, _ := trainer.NewEvaluator(avg, split, testNorm).Accuracy(seq)
	var linear, dare, slerp []Sample
	individuals := map[string]bool{}
	for _, s := range doc.Samples {
		switch s.Method {
		case "linear":
			linear = append(linear, s)
		case "dare_ties":
			dare = append(dare, s)
		case "slerp":
			slerp = append(slerp, s)
		case RoleIndividual:
			individuals[s.Model] = true
		}
	}
	if len(linear) != 3 || linear[0].Kind != "sequential" || math.Abs(linear[0].Acc-wantAcc) > 1e-9 {
		t.Fatalf("linear samples %+v, want 3 with sequential accuracy %v", linear, wantAcc)
	}
	// dare_ties: defaults and 3 densities, 2 seeds each, 3 orders each.
	if len(dare) != 4*2*3 {
		t.Errorf("%d dare_ties samples, want 24", len(dare))
	}
	seeds := map[uint64]bool{}
	for _, s := range dare {
		seeds[s.MergeSeed] = true
	}
	if !seeds[7] || !seeds[8] || len(seeds) != 2 {
		t.Errorf("dare_ties merge seeds %v, want 7 and 8", seeds)
	}
	if len(slerp) != 3*3 {
		t.Errorf("%d slerp samples, want 9", len(slerp))
	}
	if len(individuals) != 3 {
		t.Errorf("individuals %v, want the 3 members", individuals)
	}
	rows := SummarizeMethods(doc)
	var best, ind *MethodRow
	for i, r := range rows {
		if r.Order != "sequential" {
			continue
		}
		switch r.Method {
		case RoleBest:
			best = &rows[i]
		case RoleIndividual:
			ind = &rows[i]
		}
	}
	if best == nil || ind == nil || best.Mean != ind.Max || best.Normalized != 1 || ind.N != 3 {
		t.Fatalf("best %+v individual %+v", best, ind)
	}
	for _, r := range rows {
		if r.Method == "linear" && r.Order == "sequential" && math.Abs(r.Normalized-wantAcc/best.Mean) > 1e-12 {
			t.Errorf("linear normalized %v, want %v", r.Normalized, wantAcc/best.Mean)
		}
	}
	// The rendering writes and reads back.
	dir := t.TempDir()
	r := Render(doc, false)
	if err := r.WriteFiles(Files{CSV: filepath.Join(dir, "m.csv"), JSON: filepath.Join(dir, "m.json"), Plots: []string{filepath.Join(dir, "m.svg")}}); err != nil {
		t.Fatal(err)
	}
	back, err := ReadDocument(filepath.Join(dir, "m.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Samples) != len(doc.Samples) || len(back.MethodSummary) != len(rows) {
		t.Errorf("read back %d samples and %d rows, want %d and %d", len(back.Samples), len(back.MethodSummary), len(doc.Samples), len(rows))
	}
	var b bytes.Buffer
	if err := r.Display.Render(&b); err != nil || !strings.Contains(b.String(), "dare_ties density=0.5") {
		t.Errorf("display: %v\n%s", err, b.String())
	}
	if len(r.Figure.Panels) != 2 { // density (dare_ties) and t (slerp; nearswap would get its own)
		t.Errorf("%d panels, want density and t", len(r.Figure.Panels))
	}
}

func TestRunMethodsRefusesBeforeMerging(t *testing.T) {
	split := randomSplit(50, 4)
	g, _ := methodsGroupOf(t, 1, split)
	g.Base = nil
	loaded := false
	for i := range g.Members {
		g.Members[i].Load = func() (*Loaded, error) { loaded = true; return nil, nil }
	}
	_, err := RunMethods([]MethodsGroup{g}, Options{Seeds: 1, Methods: []string{"ties", "slerp"}}, nil, nil)
	if err == nil || !strings.Contains(err.Error(), "needs a base") || !strings.Contains(err.Error(), "slerp merges two members") {
		t.Errorf("got %v, want the missing base and the lone member named", err)
	}
	if loaded {
		t.Error("a model was loaded before the checks")
	}
}

// On a multi-task group every merge is measured on each task through the
// first member's view of that task, and the average row averages the tasks
// sample by sample.
func TestRunMethodsMultiTask(t *testing.T) {
	splits := map[string]*dataset.Split{"a": randomSplit(120, 1), "b": randomSplit(80, 2)}
	g, _ := methodsGroupOf(t, 2, splits["a"])
	var asked []string
	for i, task := range []string{"a", "b"} {
		g.Members[i].Task = task
		m := g.Members[i]
		g.Members[i].Load = func() (*Loaded, error) {
			ld, _ := m.Load()
			return &Loaded{Model: ld.Model, Test: splits[task], Norm: testNorm}, nil
		}
		g.Members[i].LoadTask = func(task string) (*Loaded, error) {
			asked = append(asked, m.Name+":"+task)
			ld, _ := m.Load()
			return &Loaded{Model: ld.Model, Test: splits[task], Norm: testNorm}, nil
		}
	}
	g.Base.LoadTask = func(task string) (*Loaded, error) {
		asked = append(asked, "parent:"+task)
		ld, _ := g.Base.Load()
		return &Loaded{Model: ld.Model, Test: splits[task], Norm: testNorm}, nil
	}
	doc, err := RunMethods([]MethodsGroup{g}, Options{Split: "test", Seeds: 1, Orders: 1, Methods: []string{"task_arithmetic"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The merges are measured on b through member 0's view of b; each
	// member on its own task through its own data.
	// The parent (its own task is none) is measured on both; each view once.
	slices.Sort(asked)
	if !slices.Equal(asked, []string{"p-0:b", "parent:a", "parent:b"}) {
		t.Errorf("task views loaded %v, want p-0:b, parent:a and parent:b once each", asked)
	}
	rows := SummarizeMethods(doc)
	find := func(method, order, task string) MethodRow {
		for _, r := range rows {
			if r.Label() == method && r.Order == order && r.Task == task {
				return r
			}
		}
		t.Fatalf("no row %s %s %s in %+v", method, order, task, rows)
		return MethodRow{}
	}
	for _, label := range []string{"task_arithmetic", "task_arithmetic lambda=0.3", RoleIndividual, RoleParent} {
		a, b, avg := find(label, "random", "a"), find(label, "random", "b"), find(label, "random", AverageTask)
		if math.Abs(avg.Mean-(a.Mean+b.Mean)/2) > 1e-12 {
			t.Errorf("%s: average %v of %v and %v", label, avg.Mean, a.Mean, b.Mean)
		}
		ia, ib := find(RoleIndividual, "random", "a"), find(RoleIndividual, "random", "b")
		if want := (a.Mean/ia.Mean + b.Mean/ib.Mean) / 2; math.Abs(avg.Normalized-want) > 1e-12 {
			t.Errorf("%s: normalized %v, want %v", label, avg.Normalized, want)
		}
	}
	// Tasks come before their average.
	for i, r := range rows[:len(rows)-1] {
		if r.Task == AverageTask && rows[i+1].Label() == r.Label() && rows[i+1].Order == r.Order {
			t.Errorf("row %d: the average before a task of %s", i, r.Label())
		}
	}
	raw, _ := json.Marshal(doc)
	if _, err := DecodeDocument(raw, "doc"); err != nil {
		t.Error(err)
	}
}

// A configuration the method refuses on these weights (TIES at density 0.2
// keeps no element of a 4-element head bias, as in mergekit) is skipped and
// named; the others are measured.
func TestRunMethodsSkipsFailedMerge(t *testing.T) {
	g, _ := methodsGroupOf(t, 2, randomSplit(60, 3))
	var log bytes.Buffer
	doc, err := RunMethods([]MethodsGroup{g}, Options{Split: "test", Seeds: 1, Methods: []string{"ties"}}, nil, &log)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Failed) != 1 || !strings.Contains(doc.Failed[0], "ties density=0.2") || !strings.Contains(log.String(), "skipped p, ties density=0.2") {
		t.Errorf("failed %q, log %q", doc.Failed, log.String())
	}
	labels := map[string]bool{}
	for _, s := range doc.Samples {
		labels[MethodConfig{s.Method, s.Param, s.Value}.Label()] = true
	}
	if !labels["ties density=0.5"] || !labels["ties"] || labels["ties density=0.2"] {
		t.Errorf("measured %v", labels)
	}
	if display, _ := MethodTables(doc, SummarizeMethods(doc)); !strings.Contains(display.Title, "could not merge: p, ties density=0.2") {
		t.Errorf("title %q", display.Title)
	}
}

// The data-driven merges run in the sweep on each member's own splits: its
// RegMean is datamerge.RegMean of the members on their training images.
func TestRunMethodsLearned(t *testing.T) {
	test, train := randomSplit(80, 1), randomSplit(300, 2)
	g, models := methodsGroupOf(t, 2, test)
	for i := range g.Members {
		m := models[g.Members[i].Name]
		g.Members[i].Load = func() (*Loaded, error) {
			return &Loaded{Model: m, Test: test, Train: train, Val: test, Norm: testNorm}, nil
		}
	}
	doc, err := RunMethods([]MethodsGroup{g}, Options{Split: "test", Seeds: 1, Methods: []string{"regmean", "adamerging"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	var srcs []datamerge.Source
	for _, s := range g.Members {
		srcs = append(srcs, datamerge.Source{Model: models[s.Name], Data: train.Limit(datamerge.DefaultImages), Norm: testNorm})
	}
	want, err := datamerge.RegMean("x", srcs, datamerge.RegMeanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := want.PlanOf([]int{0, 1, 2})
	wantAcc, _ := trainer.NewEvaluator(want, test, testNorm).Accuracy(plan)
	labels := map[string]bool{}
	for _, s := range doc.Samples {
		labels[MethodConfig{s.Method, s.Param, s.Value}.Label()] = true
		if s.Method == "regmean" && s.Kind == "sequential" && s.Acc != wantAcc {
			t.Errorf("sweep's regmean %v, datamerge.RegMean %v", s.Acc, wantAcc)
		}
	}
	for _, l := range []string{"regmean", "adamerging", "adamerging lr=0.01"} {
		if !labels[l] {
			t.Errorf("no %s samples (have %v)", l, labels)
		}
	}
}
