package study

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/sweep"
	"github.com/frankenvit/frankenvit/workflow"
)

// mergeStudy is a population, a random merge of it and an orders sweep of
// the merge's models.
func mergeStudy(data, merge string) []byte {
	return []byte(fmt.Sprintf(`name: remerge
data: idx:%s
seed: 3
orders: 2
model: {depth: 3, dim: 16, heads: 2, mlp: 24, patch: 4}
train: {epochs: 1, parent_epochs: 2, batch: 8, lr: 0.003}
populations:
  - {name: ts, variant: shuffle, size: 2}
merges:
  - %s
sweeps:
  - {kind: orders, models: [tf], orders: 2, repeats: 1, order_batch: 8}
`, data, merge))
}

// runStudy checks and runs a study file, returning its log.
func runStudy(t *testing.T, s *checkpoint.Store, text []byte, out string) (*Result, string) {
	t.Helper()
	f, err := Parse(text, "remerge.yaml")
	if err != nil {
		t.Fatal(err)
	}
	plan, err := Check(f, "remerge.yaml", text, s)
	if err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	res, err := Run(s, plan, out, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	return res, log.String()
}

// merged is what a study reported for merge tf and what the store holds.
type merged struct {
	reported *mergeRecord
	names    []string          // the merge's models in the store
	plans    map[string]string // model -> its plan, as its manifest records it
	seeds    map[string]uint64 // model -> the seed its manifest records
}

func readMerged(t *testing.T, s *checkpoint.Store, out string) merged {
	t.Helper()
	rec, err := readMergeRecord(filepath.Join(out, "merge-tf.json"))
	if err != nil || rec == nil || rec.MergeOutcome == nil {
		t.Fatalf("merge-tf.json: %v, %+v", err, rec)
	}
	m := merged{reported: rec, plans: map[string]string{}, seeds: map[string]uint64{}}
	mans, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	for _, man := range mans {
		if man.Name != "tf" && !strings.HasPrefix(man.Name, "tf-") {
			continue
		}
		var r merge.Record
		if err := json.Unmarshal(man.Recipe, &r); err != nil || r.Splice == nil {
			t.Fatalf("%s: recipe %s: %v", man.Name, man.Recipe, err)
		}
		m.names = append(m.names, man.Name)
		m.plans[man.Name], m.seeds[man.Name] = r.Splice.String(), r.Seed
	}
	slices.Sort(m.names)
	return m
}

// checkReported asserts that the study reported exactly the merge in the
// store: its models, their plans, and accuracies that an evaluation of the
// stored models gives again.
func checkReported(t *testing.T, s *checkpoint.Store, res *Result, m merged, names []string, seed uint64) {
	t.Helper()
	if !slices.Equal(m.names, names) {
		t.Fatalf("the store holds merge models %v, want %v", m.names, names)
	}
	var reported []string
	for _, r := range m.reported.Merged {
		reported = append(reported, r.Name)
	}
	if !slices.Equal(reported, names) || !slices.Equal(m.reported.Models, names) || m.reported.Pending {
		t.Errorf("merge-tf.json reports %v (models %v, pending %v), want %v", reported, m.reported.Models, m.reported.Pending, names)
	}
	var table bytes.Buffer
	for _, tb := range res.Tables {
		if strings.HasPrefix(tb.Title, "merge tf") {
			tb.Render(&table)
		}
	}
	for _, r := range m.reported.Merged {
		if r.Plan != m.plans[r.Name] || m.seeds[r.Name] != seed {
			t.Errorf("%s: reported plan %q, the store's %q (seed %d, want %d)", r.Name, r.Plan, m.plans[r.Name], m.seeds[r.Name], seed)
		}
		for _, c := range []struct {
			split string
			acc   float64
		}{{"test", r.TestSequential}, {"val", r.ValAccuracy}} {
			ev, err := workflow.Eval(s, workflow.EvalRequest{Name: r.Name, Split: c.split, Order: "sequential"})
			if err != nil {
				t.Fatal(err)
			}
			if ev.Accuracy != c.acc {
				t.Errorf("%s: reported %s accuracy %v, the stored model scores %v", r.Name, c.split, c.acc, ev.Accuracy)
			}
		}
		if !strings.Contains(table.String(), r.Name) || !strings.Contains(table.String(), fmt.Sprintf("%.2f%%", 100*r.TestSequential)) {
			t.Errorf("the merge table lacks %s at %.2f%%:\n%s", r.Name, 100*r.TestSequential, table.String())
		}
	}
}

// sweptModels are the models the orders sweep of the study measured.
func sweptModels(t *testing.T, out string) []string {
	t.Helper()
	doc, err := sweep.ReadDocument(filepath.Join(out, "sweep-1-orders.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, smp := range doc.Samples {
		if !slices.Contains(names, smp.Model) {
			names = append(names, smp.Model)
		}
	}
	slices.Sort(names)
	return names
}

// A study rerun whose merge entry changed rebuilds that merge and reports
// the new one, measures it again, and a rerun without a change reuses it.
func TestStudyRebuildsAChangedMerge(t *testing.T) {
	data, s := stripes(t), openStore(t)
	out := filepath.Join(t.TempDir(), "out")
	res, log := runStudy(t, s, mergeStudy(data, "{name: tf, method: random, from: [ts], count: 2, seed: 1}"), out)
	first := readMerged(t, s, out)
	checkReported(t, s, res, first, []string{"tf-0", "tf-1"}, 1)
	if got := sweptModels(t, out); !slices.Equal(got, []string{"tf-0", "tf-1"}) {
		t.Errorf("the sweep measured %v", got)
	}

	// Another seed and count: the old models go, the new ones are reported
	// and measured.
	changed := mergeStudy(data, "{name: tf, method: random, from: [ts], count: 3, seed: 7}")
	res, log = runStudy(t, s, changed, out)
	if !strings.Contains(log, "merge tf: its entry changed since it was built (count 2 -> 3, seed 1 -> 7): rebuilding it (removing tf-0, tf-1)") ||
		strings.Contains(log, "already in the store") || !strings.Contains(log, "sweep 1-orders: orders of [tf]") {
		t.Errorf("a changed merge was not rebuilt and measured again:\n%s", log)
	}
	second := readMerged(t, s, out)
	checkReported(t, s, res, second, []string{"tf-0", "tf-1", "tf-2"}, 7)
	if second.plans["tf-0"] == first.plans["tf-0"] && second.plans["tf-1"] == first.plans["tf-1"] {
		t.Errorf("seed 7 drew the plans of seed 1: %v", second.plans)
	}
	if got := sweptModels(t, out); !slices.Equal(got, []string{"tf-0", "tf-1", "tf-2"}) {
		t.Errorf("the sweep measured %v after the rebuild", got)
	}
	var group workflow.PopulationSummary
	if err := s.GetRecord("populations", "tf", &group); err != nil || len(group.Members) != 3 {
		t.Errorf("the group record: %v, %+v", err, group)
	}

	// No change: everything is reused, nothing in the store changes.
	before := storeFiles(t, s)
	res, log = runStudy(t, s, changed, out)
	if !strings.Contains(log, "merge tf: already in the store") || strings.Contains(log, "rebuilding") ||
		!strings.Contains(log, "sweep 1-orders: results in") {
		t.Errorf("an unchanged merge was not reused:\n%s", log)
	}
	checkReported(t, s, res, readMerged(t, s, out), []string{"tf-0", "tf-1", "tf-2"}, 7)
	if after := storeFiles(t, s); !maps.Equal(before, after) {
		t.Error("a rerun without a change changed the store")
	}

	// A rebuild that died half-way (its record pending, a model gone) is
	// finished by the next run.
	rec, _ := readMergeRecord(filepath.Join(out, "merge-tf.json"))
	rec.Pending = true
	if err := writeMergeRecord(filepath.Join(out, "merge-tf.json"), rec); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove("tf-1"); err != nil {
		t.Fatal(err)
	}
	res, log = runStudy(t, s, changed, out)
	if !strings.Contains(log, "merge tf: an earlier build did not finish: rebuilding it (removing tf-0, tf-2)") {
		t.Errorf("a pending rebuild was not finished:\n%s", log)
	}
	checkReported(t, s, res, readMerged(t, s, out), []string{"tf-0", "tf-1", "tf-2"}, 7)

	// Down to one model: tf replaces tf-0 .. tf-2, and the group record
	// names it alone.
	res, log = runStudy(t, s, mergeStudy(data, "{name: tf, method: random, from: [ts], seed: 7}"), out)
	if !strings.Contains(log, "merge tf: its entry changed since it was built (count 3 -> 1): rebuilding it (removing tf-0, tf-1, tf-2)") {
		t.Errorf("count 1 did not rebuild:\n%s", log)
	}
	checkReported(t, s, res, readMerged(t, s, out), []string{"tf"}, 7)
	if err := s.GetRecord("populations", "tf", &group); err != nil || len(group.Members) != 1 || group.Members[0].Name != "tf" {
		t.Errorf("the group record after count 1: %v, %+v", err, group)
	}
	if got := sweptModels(t, out); !slices.Equal(got, []string{"tf"}) {
		t.Errorf("the sweep measured %v after count 1", got)
	}

	// Another study (another output folder) did not build tf: refused, and
	// nothing is removed.
	before = storeFiles(t, s)
	f, _ := Parse(mergeStudy(data, "{name: tf, method: random, from: [ts], seed: 8}"), "other.yaml")
	plan, err := Check(f, "other.yaml", nil, s)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	other := filepath.Join(t.TempDir(), "other")
	if _, err := Run(s, plan, other, &buf); err == nil || !strings.Contains(err.Error(), "model tf is in the store but this study did not build it") {
		t.Errorf("a merge over a model the study did not build: %v", err)
	}
	if after := storeFiles(t, s); !maps.Equal(before, after) {
		t.Error("a refused merge changed the store")
	}
	if _, err := os.Stat(filepath.Join(other, "merge-tf.json")); err == nil {
		t.Error("a refused merge left a record")
	}
}
