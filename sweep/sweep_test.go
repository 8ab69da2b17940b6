package sweep

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/internal/vittest"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

var testNorm = dataset.Normalization{Mean: []float32{0.5}, Std: []float32{0.3}}

// tinyModel is a tiny shuffle model (vittest.TinyModel).
func tinyModel(t testing.TB, name string, depth int, seed uint64) *vit.Model {
	return vittest.TinyModel(t, name, depth, vit.Shuffle, seed)
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

func subjects(t testing.TB, groups map[string][]string, order []string) []Subject {
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

func encode(t testing.TB, d *Document) []byte {
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
	ld, err := subs[1].Load()
	if err != nil || subs[1].Name != "pop-1" {
		t.Fatalf("subject 1 is %s: %v", subs[1].Name, err)
	}
	plan, err := ld.Model.PlanOf([]int{0, 1})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := trainer.NewEvaluator(ld.Model, ld.Test, ld.Norm).Accuracy(plan)
	var got []Sample
	for _, s := range doc.Samples {
		if s.Model == "pop-1" && s.Kind == "last" && s.Removed == 2 {
			got = append(got, s)
		}
	}
	if len(got) != 1 || got[0].Acc != want || !slices.Equal(got[0].Plan, []int{0, 1}) {
		t.Errorf("pop-1 with its last 2 blocks removed: samples %+v, want one of plan [0 1] at accuracy %v", got, want)
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
		want string // the refusal names what is wrong
	}{
		{Orders, Options{Orders: 0, OrderBatch: 1}, "orders sweep needs --orders from 1 to 100000, --repeats from 0 to 10000 and --order-batch >= 1, got 0, 0, 1"},
		{Orders, Options{Orders: 2, OrderBatch: 0}, "got 2, 0, 0"},
		{Orders, Options{Orders: 100_001, OrderBatch: 1}, "got 100001, 0, 1"},
		{Orders, Options{Orders: 2, OrderBatch: 1, Repeats: -1}, "got 2, -1, 1"},
		{Depth, Options{Seeds: 1}, "depth sweep needs strategies and --seeds from 1 to 10000, got [] and 1"},
		{Depth, Options{Seeds: 0, Strategies: []string{"last"}}, "got [last] and 0"},
		{Depth, Options{Seeds: 1, Strategies: []string{"sideways"}}, "sideways"},
		{Merge, Options{Draws: 0}, "merge sweep needs --draws from 1 to 10000, got 0"},
		{Merge, Options{Draws: 2_000_000_000}, "got 2000000000"},
		{Depth, Options{Seeds: 10_001, Strategies: []string{"last"}}, "got [last] and 10001"},
		{Orders, Options{Orders: 2, OrderBatch: 1, Repeats: 10_001}, "got 2, 10001, 1"},
		{"width", Options{}, `unknown sweep "width"`},
	} {
		if _, err := Run(tc.kind, subs, nil, tc.opt, nil, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %+v: error %v, want one containing %q", tc.kind, tc.opt, err, tc.want)
		}
	}
	if _, err := Run(Orders, nil, nil, Options{Orders: 1, OrderBatch: 1}, nil, nil); err == nil || err.Error() != "no models to sweep" {
		t.Errorf("no subjects: %v", err)
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

// The decoder refuses what no sweep writes and what would crash or swamp
// the summaries (a negative number of blocks removed indexed DepthGrid out
// of range; a billion gave it a billion columns).
func TestDecodeDocumentRefuses(t *testing.T) {
	sample := func(extra string) string {
		return `{"sweep":"depth","units":1,"samples":[{"unit":0,"index":0,"group":"a","model":"a","variant":"shuffle","kind":"last",` +
			extra + `}],"summary":[]}`
	}
	good := sample(`"removed":1,"plan":[0,1],"accuracy":0.5,"loss":1`)
	if _, err := DecodeDocument([]byte(good), "good.json"); err != nil {
		t.Fatalf("a good document: %v", err)
	}
	for _, tc := range []struct{ raw, want string }{
		{sample(`"removed":-5,"accuracy":0.5,"loss":1`), "bad.json: sample 0 (unit 0, model \"a\"): -5 blocks removed (want 0..4096)"},
		{sample(`"removed":1000000000,"accuracy":0.5,"loss":1`), "1000000000 blocks removed"},
		{sample(`"sources":-1,"accuracy":0.5,"loss":1`), "-1 sources"},
		{sample(`"plan":[0,-1],"accuracy":0.5,"loss":1`), "block position -1"},
		{sample(`"accuracy":1.5,"loss":1`), "accuracy 1.5 (want 0..1)"},
		{`{"sweep":"merge","units":-1,"samples":[]}`, "a sweep of -1 units"},
		{good + `{"sweep":"depth"}`, "more after the document"},
		{good[:len(good)-10], "not a sweep result"},
		{`{"sweep":"width","units":0,"samples":[]}`, `sweep is "width"`},
		{`{"sweep":"orders","units":1,"samples":[{"unit":1}]}`, "a sample of unit 1 in a sweep of 1 units"},
	} {
		if _, err := DecodeDocument([]byte(tc.raw), "bad.json"); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\n  error %v, want one containing %q", tc.raw, err, tc.want)
		}
	}
}

// sweepSeeds are documents real sweeps of every kind write, whole and as a
// shard, for the fuzz corpus.
func sweepSeeds(t testing.TB) [][]byte {
	subs := subjects(t, map[string][]string{"pop": {"pop-0", "pop-1"}, "solo": {"solo"}}, []string{"pop", "solo"})
	refs := subjects(t, map[string][]string{"ref": {"ref"}}, []string{"ref"})
	var out [][]byte
	for _, tc := range []struct {
		kind string
		opt  Options
		refs []Subject
	}{
		{Orders, Options{Names: []string{"pop", "solo"}, Split: "test", Seed: 3, Orders: 2, Repeats: 1, OrderBatch: 16}, nil},
		{Depth, Options{Names: []string{"pop"}, Split: "test", Seed: 3, Seeds: 2, Strategies: []string{"last", "random"},
			References: []string{"ref"}}, refs},
		{Merge, Options{Names: []string{"pop", "solo"}, Split: "test", Seed: 3, Draws: 2}, nil},
	} {
		for _, shard := range []*Shard{nil, {Index: 1, Count: 2}} {
			d, err := Run(tc.kind, subs, tc.refs, tc.opt, shard, nil)
			if err != nil {
				t.Fatal(err)
			}
			d.Summary = Summarize(d, false)
			out = append(out, encode(t, d))
		}
	}
	return out
}

// Whatever the decoder accepts, of every sweep kind, round-trips (encoded
// and decoded again it is the same document) and goes through everything
// `bench merge-results` does with it without a panic.
func FuzzDecodeDocument(f *testing.F) {
	f.Add([]byte(`{"sweep":"orders","options":{"names":["a"],"split":"test","seed":0},"units":2,"samples":[{"unit":1,"index":0,"group":"a","model":"a","variant":"shuffle","kind":"sequential","removed":0,"accuracy":0.5,"loss":1}],"summary":[]}`))
	f.Add([]byte(`{"sweep":"depth","shard":{"index":0,"count":2},"units":1,"samples":[]}`))
	f.Add([]byte(`{"sweep":"depth","options":{"names":["p"],"split":"test","seed":1,"strategies":["last"],"seeds":1},"units":1,"samples":[{"unit":0,"index":1,"group":"p","model":"p-0","variant":"shuffle","kind":"last","removed":1,"plan":[0,1,2],"accuracy":0.25,"loss":1.5}],"summary":[]}`))
	f.Add([]byte(`{"sweep":"merge","options":{"names":["pop"],"split":"test","seed":1,"draws":2},"shard":{"index":1,"count":2},"units":2,"samples":[{"unit":1,"index":0,"group":"pop","model":"pop-1","variant":"shuffle","kind":"random-merge","removed":0,"sources":2,"splice":"pop-1[0] pop-0[1] pop-1[2] pop-0[3]","accuracy":0.75,"loss":0.6},{"unit":1,"index":1,"group":"pop","model":"pop-0","variant":"shuffle","kind":"random-merge","removed":0,"sources":2,"seed":1,"splice":"pop-0[0] pop-0[1] pop-1[2] pop-1[3]","accuracy":0.5,"loss":0.9}],"summary":[]}`))
	f.Add([]byte(`[]`))
	for _, raw := range sweepSeeds(f) {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := DecodeDocument(raw, "fuzz.json")
		if err != nil {
			return
		}
		again, err := json.Marshal(d)
		if err != nil {
			t.Fatalf("an accepted document does not encode: %v", err)
		}
		back, err := DecodeDocument(again, "again.json")
		if err != nil {
			t.Fatalf("an accepted %s document, encoded, is refused: %v\n%s", d.Sweep, err, again)
		}
		// Equal as documents: the same encoding (an empty list and a
		// missing one are the same document), and a second round trip
		// changes nothing at all.
		if twice, _ := json.Marshal(back); !bytes.Equal(twice, again) {
			t.Fatalf("a %s document changed in a round trip:\n%s\n%s", d.Sweep, again, twice)
		}
		if third, _ := DecodeDocument(again, "third.json"); !reflect.DeepEqual(third, back) {
			t.Fatalf("decoding one encoding twice gave two documents: %+v, %+v", back, third)
		}
		for _, perModel := range []bool{false, true} {
			rows := Summarize(d, perModel)
			Tables(d, rows)
			if d.Sweep == Depth {
				DepthGrid(d, rows)
			}
			Figure(d, rows)
		}
		if d.Shard != nil {
			if m, err := MergeShards([]*Document{d}, []string{"fuzz.json"}); err == nil && d.Shard.Count != 1 {
				t.Fatalf("shard %d/%d alone merged into %+v", d.Shard.Index, d.Shard.Count, m)
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
	mixed, one := 0, 0
	for _, s := range doc.Samples {
		var ld *Loaded
		for _, sub := range subs {
			if sub.Name == s.Model {
				ld, _ = sub.Load()
			}
		}
		if ld == nil {
			t.Fatalf("sample of model %q, not a member", s.Model)
		}
		if s.Sources == 1 {
			one++
			want, _ := trainer.NewEvaluator(ld.Model, ld.Test, ld.Norm).Accuracy(ld.Model.Sequential())
			if s.Acc != want || strings.Count(s.Splice, s.Model+"[") != 4 {
				t.Errorf("one source: %s scores %v, its model %v", s.Splice, s.Acc, want)
			}
		}
		if s.Sources == 3 && strings.Count(s.Splice, s.Model+"[") < 4 {
			mixed++
		}
	}
	if one != 6 {
		t.Errorf("%d draws of one source, want 6", one)
	}
	if mixed == 0 {
		t.Error("no draw of three sources mixed blocks of several models")
	}
	rows := Summarize(doc, false)
	if len(rows) != 3 || rows[2].Sources != 3 || rows[2].N != 6 {
		t.Errorf("rows %+v", rows)
	}
}
