package sweep

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

var testNorm = dataset.Normalization{Mean: []float32{0.5}, Std: []float32{0.3}}

func tinyModel(t *testing.T, name string, depth int, seed uint64) *vit.Model {
	t.Helper()
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: depth,
		Classes: 4, Variant: vit.Shuffle}
	m, err := vit.NewModel(name, c)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, p := range m.Params() {
		for i := range p.Data() {
			p.Data()[i] += float32(0.3 * rng.NormFloat64())
		}
	}
	return m
}

func randomSplit(n int, seed uint64) *dataset.Split {
	return synth.NoiseSplit(n, 1, 8, 8, 4, rand.New(rand.NewPCG(seed, 3)))
}

func TestMixedOrderSharedOrderEqualsEvaluator(t *testing.T) {
	m := tinyModel(t, "m", 4, 1)
	split := randomSplit(300, 1) // two evaluation batches, the second partial
	orders := make([][]int, split.N)
	for i := range orders {
		orders[i] = []int{2, 0, 3, 1}
	}
	acc, loss, err := MixedOrderAccuracy(m, split, testNorm, orders, nil)
	if err != nil {
		t.Fatal(err)
	}
	plan, _ := m.PlanOf([]int{2, 0, 3, 1})
	wantAcc, wantLoss := trainer.NewEvaluator(m, split, testNorm).Accuracy(plan)
	if acc != wantAcc || loss != wantLoss {
		t.Errorf("one order for all: %v %v, evaluator %v %v", acc, loss, wantAcc, wantLoss)
	}
}

// Every image its own order: the same as evaluating each image alone.
func TestMixedOrderPerImage(t *testing.T) {
	m := tinyModel(t, "m", 4, 2)
	split := randomSplit(270, 2)
	orders := OrdersPerGroup(split.N, 4, 1, rand.New(rand.NewPCG(5, 5)))
	acc, loss, err := MixedOrderAccuracy(m, split, testNorm, orders, nil)
	if err != nil {
		t.Fatal(err)
	}
	var correct, lossSum float64
	for i := 0; i < split.N; i++ {
		plan, _ := m.PlanOf(orders[i])
		a, l := trainer.NewEvaluator(m, split.Subset([]int{i}), testNorm).Accuracy(plan)
		correct += a
		lossSum += l
	}
	if acc != correct/float64(split.N) || math.Abs(loss-lossSum/float64(split.N)) > 1e-5 {
		t.Errorf("per image: %v %v, one at a time %v %v", acc, loss, correct/float64(split.N), lossSum/float64(split.N))
	}
	if _, _, err := MixedOrderAccuracy(m, split, testNorm, orders[:3], nil); err == nil {
		t.Error("too few orders accepted")
	}
	orders[7] = []int{0, 9, 1, 2}
	if _, _, err := MixedOrderAccuracy(m, split, testNorm, orders, nil); err == nil {
		t.Error("a missing block was accepted")
	}
}

func TestOrdersPerGroup(t *testing.T) {
	o := OrdersPerGroup(10, 5, 4, rand.New(rand.NewPCG(1, 1)))
	for i := range o {
		if &o[i][0] != &o[i/4*4][0] {
			t.Errorf("image %d does not share the order of its group", i)
		}
	}
	if &o[3][0] == &o[4][0] {
		t.Error("two groups share one order slice")
	}
}

func subjects(t *testing.T, groups map[string][]string, order []string) []Subject {
	var out []Subject
	seed := uint64(10)
	for _, g := range order {
		for _, name := range groups[g] {
			seed++
			m := tinyModel(t, name, 4, seed)
			ld := &Loaded{Model: m, Test: randomSplit(120, seed), Val: randomSplit(60, seed+100), Norm: testNorm}
			out = append(out, Subject{Group: g, Name: name, Variant: "shuffle", Depth: 4,
				Load: func() (*Loaded, error) { return ld, nil }})
		}
	}
	return out
}

func encode(t *testing.T, d *Document) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Shards written to files and merged give the whole sweep's document.
func TestShardsMergeToWholeSweep(t *testing.T) {
	subs := subjects(t, map[string][]string{"pop": {"pop-0", "pop-1"}, "solo": {"solo"}}, []string{"pop", "solo"})
	refs := subjects(t, map[string][]string{"ref": {"ref"}}, []string{"ref"})
	for _, tc := range []struct {
		kind string
		opt  Options
		refs []Subject
	}{
		{Orders, Options{Names: []string{"pop", "solo"}, Split: "test", Seed: 3, Orders: 4, Repeats: 2, OrderBatch: 16}, nil},
		{Depth, Options{Names: []string{"pop", "solo"}, Split: "test", Seed: 3, Seeds: 3,
			Strategies: []string{"last", "random", "greedy", "influence", "angular", "every-other", "first"}, References: []string{"ref"}}, refs},
		{Merge, Options{Names: []string{"pop", "solo"}, Split: "test", Seed: 3, Draws: 4}, nil},
	} {
		whole, err := Run(tc.kind, subs, tc.refs, tc.opt, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		whole.Summary = Summarize(whole, false)
		dir := t.TempDir()
		var docs []*Document
		var names []string
		for i := 2; i >= 0; i-- { // any order of files
			sh := Shard{Index: i, Count: 3}
			d, err := Run(tc.kind, subs, tc.refs, tc.opt, &sh, nil)
			if err != nil {
				t.Fatal(err)
			}
			d.Summary = Summarize(d, false)
			path := filepath.Join(dir, "shard"+string(rune('0'+i))+".json")
			if err := d.WriteFile(path); err != nil {
				t.Fatal(err)
			}
			back, err := ReadDocument(path)
			if err != nil {
				t.Fatal(err)
			}
			docs, names = append(docs, back), append(names, path)
		}
		merged, err := MergeShards(docs, names)
		if err != nil {
			t.Fatal(err)
		}
		merged.Summary = Summarize(merged, false)
		if a, b := encode(t, whole), encode(t, merged); !bytes.Equal(a, b) {
			t.Errorf("%s: merged shards differ from the whole sweep", tc.kind)
		}
		if _, err := MergeShards(docs[:2], names[:2]); err == nil || !strings.Contains(err.Error(), "missing") {
			t.Errorf("%s: a missing shard: %v", tc.kind, err)
		}
		if _, err := MergeShards([]*Document{docs[0], docs[0], docs[1], docs[2]}, []string{"a", "b", "c", "d"}); err == nil ||
			!strings.Contains(err.Error(), "both shard") {
			t.Errorf("%s: a repeated shard: %v", tc.kind, err)
		}
		other := *docs[1]
		other.Options.Seed = 99
		if _, err := MergeShards([]*Document{docs[0], &other, docs[2]}, names); err == nil || !strings.Contains(err.Error(), "other options") {
			t.Errorf("%s: shards of different options: %v", tc.kind, err)
		}
		if _, err := MergeShards([]*Document{whole, docs[0]}, []string{"whole.json", names[0]}); err == nil {
			t.Errorf("%s: a whole sweep was merged with a shard", tc.kind)
		}
		again, err := MergeShards([]*Document{whole}, []string{"whole.json"})
		if err != nil {
			t.Fatal(err)
		}
		again.Summary = Summarize(again, false)
		if !bytes.Equal(encode(t, again), encode(t, whole)) {
			t.Errorf("%s: a whole sweep alone did not come back as it was", tc.kind)
		}
	}
}

// The depth sweep's numbers are the evaluator's for the pruned plans, and
// populations pool their members.
func TestDepthSamples(t *testing.T) {
	subs := subjects(t, map[string][]string{"pop": {"pop-0", "pop-1"}}, []string{"pop"})
	doc, err := Run(Depth, subs, nil, Options{Names: []string{"pop"}, Split: "test", Seeds: 4, Strategies: []string{"last", "random"}}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	ld, _ := subs[1].Load()
	plan, _ := ld.Model.PlanOf([]int{0, 1})
	want, _ := trainer.NewEvaluator(ld.Model, ld.Test, ld.Norm).Accuracy(plan)
	found := false
	for _, s := range doc.Samples {
		if s.Model == "pop-1" && s.Kind == "last" && s.Removed == 2 {
			found = s.Acc == want
		}
	}
	if !found {
		t.Errorf("no sample of pop-1 with its last 2 blocks removed at accuracy %v", want)
	}
	rows := Summarize(doc, false)
	// last: 4 depths; random: 1 + 3 depths; each pooled over 2 members.
	if len(rows) != 8 || rows[0].N != 2 || rows[5].N != 8 || rows[4].N != 2 || rows[5].Kind != "random" || rows[5].Removed != 1 {
		t.Errorf("rows: %+v", rows)
	}
	if per := Summarize(doc, true); len(per) != 16 || per[0].Group != "pop-0" {
		t.Errorf("per model: %d rows, first %+v", len(per), per[0])
	}
	grid := DepthGrid(doc, rows)
	if len(grid.Rows) != 2 || len(grid.Header) != 7 || grid.Rows[0][3] == "" {
		t.Errorf("grid %+v", grid)
	}
}

func TestRunRefusesBadOptions(t *testing.T) {
	subs := subjects(t, map[string][]string{"a": {"a"}}, []string{"a"})
	for _, tc := range []struct {
		kind string
		opt  Options
	}{
		{Orders, Options{Orders: 0, OrderBatch: 1}},
		{Orders, Options{Orders: 2, OrderBatch: 0}},
		{Depth, Options{Seeds: 1}},
		{Depth, Options{Seeds: 1, Strategies: []string{"sideways"}}},
		{"width", Options{}},
	} {
		if _, err := Run(tc.kind, subs, nil, tc.opt, nil, nil); err == nil {
			t.Errorf("%s %+v accepted", tc.kind, tc.opt)
		}
	}
}

func TestParseShard(t *testing.T) {
	if s, err := ParseShard("2/5"); err != nil || s != (Shard{2, 5}) || !s.Has(7) || s.Has(8) {
		t.Errorf("2/5: %+v %v", s, err)
	}
	for _, bad := range []string{"", "1", "5/5", "-1/3", "1/0", "a/b", "1/2/3"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func FuzzParseShard(f *testing.F) {
	for _, s := range []string{"0/1", "3/4", "4/4", "x", "1/-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sh, err := ParseShard(s)
		if err == nil && (sh.Index < 0 || sh.Index >= sh.Count) {
			t.Fatalf("%q parsed to %+v", s, sh)
		}
	})
}

func FuzzDecodeDocument(f *testing.F) {
	f.Add([]byte(`{"sweep":"orders","options":{"names":["a"],"split":"test","seed":0},"units":2,"samples":[{"unit":1,"index":0,"group":"a","model":"a","variant":"shuffle","kind":"sequential","removed":0,"accuracy":0.5,"loss":1}],"summary":[]}`))
	f.Add([]byte(`{"sweep":"depth","shard":{"index":0,"count":2},"units":1,"samples":[]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := DecodeDocument(raw, "fuzz.json")
		if err != nil {
			return
		}
		if d.Sweep != Orders && d.Sweep != Depth {
			t.Fatalf("accepted sweep %q", d.Sweep)
		}
		for _, s := range d.Samples {
			if s.Unit < 0 || s.Unit >= d.Units {
				t.Fatalf("accepted unit %d of %d", s.Unit, d.Units)
			}
		}
		Summarize(d, false)
		if d.Shard != nil {
			if _, err := MergeShards([]*Document{d}, []string{"fuzz.json"}); err != nil {
				return
			}
		}
	})
}

// One source: every random Frankenstein model is a member itself. All
// sources: the blocks come from several members, on one member's stem.
func TestMergeSweep(t *testing.T) {
	subs := subjects(t, map[string][]string{"pop": {"pop-0", "pop-1", "pop-2"}}, []string{"pop"})
	doc, err := Run(Merge, subs, nil, Options{Names: []string{"pop"}, Split: "test", Seed: 1, Draws: 6}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Samples) != 18 || doc.Units != 3 {
		t.Fatalf("%d samples in %d units, want 18 in 3", len(doc.Samples), doc.Units)
	}
	mixed := 0
	for _, s := range doc.Samples {
		var ld *Loaded
		for _, sub := range subs {
			if sub.Name == s.Model {
				ld, _ = sub.Load()
			}
		}
		if s.Sources == 1 {
			want, _ := trainer.NewEvaluator(ld.Model, ld.Test, ld.Norm).Accuracy(ld.Model.Sequential())
			if s.Acc != want || strings.Count(s.Splice, s.Model+"[") != 4 {
				t.Errorf("one source: %s scores %v, its model %v", s.Splice, s.Acc, want)
			}
		}
		if s.Sources == 3 && strings.Count(s.Splice, s.Model+"[") < 4 {
			mixed++
		}
	}
	if mixed == 0 {
		t.Error("no draw of three sources mixed blocks of several models")
	}
	rows := Summarize(doc, false)
	if len(rows) != 3 || rows[2].Sources != 3 || rows[2].N != 6 {
		t.Errorf("rows %+v", rows)
	}
}
