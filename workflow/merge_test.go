package workflow

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

// tinyPopulation trains PREFIX-parent and PREFIX-0..n-1 on the stripes task.
func tinyPopulation(t *testing.T, s *checkpoint.Store, dir, prefix string, n int, v vit.Variant, independent bool) {
	t.Helper()
	base := tinyRequest("", dir, v)
	base.Options.Epochs = 2
	_, err := Population(s, PopulationRequest{Prefix: prefix, Size: n, ParentEpochs: 4, Member: -1, Independent: independent,
		Base: base, RandomOrders: 2})
	if err != nil {
		t.Fatal(err)
	}
}

func manifestBytes(t *testing.T, s *checkpoint.Store, names ...string) int64 {
	t.Helper()
	var total int64
	for _, n := range names {
		st, err := os.Stat(filepath.Join(s.Dir, "models", n+".json"))
		if err != nil {
			t.Fatal(err)
		}
		total += st.Size()
	}
	return total
}

// rebuild builds a stored splice again from its recorded recipe and the
// donors, and checks that the stored model computes the same logits.
func rebuild(t *testing.T, s *checkpoint.Store, name string) {
	t.Helper()
	m, man, err := loadModel(s, name)
	if err != nil {
		t.Fatal(err)
	}
	var rec merge.Record
	if err := json.Unmarshal(man.Recipe, &rec); err != nil || rec.Splice == nil {
		t.Fatalf("%s: recipe %s: %v", name, man.Recipe, err)
	}
	var donors []*vit.Model
	for _, n := range rec.From {
		d, _, err := loadModel(s, n)
		if err != nil {
			t.Fatal(err)
		}
		donors = append(donors, d)
	}
	pool, _ := merge.NewPool(donors...)
	again, err := rec.Splice.Build(name, pool)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 2*m.Config.ImageSize())
	for i := range x {
		x[i] = float32(i%5) - 2
	}
	want := slices.Clone(vit.NewRunner(again).Logits(x, 2, again.Sequential()))
	if got := vit.NewRunner(m).Logits(x, 2, m.Sequential()); !slices.Equal(got, want) {
		t.Errorf("%s: the stored model and the one rebuilt from its recipe differ", name)
	}
}

func TestMergeRandomStoresManifestsOnly(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	tinyPopulation(t, s, dir, "p", 3, vit.Shuffle, false)
	before, _ := s.Size()
	out, err := Merge(s, MergeRequest{Out: "fr", From: []string{"p"}, Method: "random", Count: 4, Seed: 9, Eval: true, Orders: 2})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := s.Size()
	names := []string{"fr-0", "fr-1", "fr-2", "fr-3"}
	if grown, want := after-before, manifestBytes(t, s, names...); grown != want {
		t.Errorf("the store grew by %d bytes, the four manifests have %d: weights were copied", grown, want)
	}
	if len(out.Sources) != 3 || len(out.Merged) != 4 || out.Sources[0].Name != "p-0" {
		t.Fatalf("outcome %+v", out)
	}
	for i, m := range out.Merged {
		if m.Name != names[i] || !m.Evaluated || m.TestSequential < 0.5 {
			t.Errorf("merged model %+v: on the easy task a splice of one population should work", m)
		}
		man, err := s.Get(m.Name)
		if err != nil {
			t.Fatal(err)
		}
		if man.Metrics["test_accuracy"] != m.TestSequential || man.Metrics["val_accuracy"] != m.ValAccuracy {
			t.Errorf("%s: metrics %v not stored", m.Name, man.Metrics)
		}
		ev, err := Eval(s, EvalRequest{Name: m.Name, Split: "test", Order: "sequential"})
		if err != nil || ev.Accuracy != m.TestSequential {
			t.Errorf("eval %s: %v, %v; merge measured %v", m.Name, ev, err, m.TestSequential)
		}
		rebuild(t, s, m.Name)
	}
	// The group is a population record, so --from fr expands to its members.
	got, err := ExpandFrom(s, []string{"fr", "p-0"})
	if err != nil || strings.Join(got, ",") != "fr-0,fr-1,fr-2,fr-3,p-0" {
		t.Errorf("expand: %v, %v", got, err)
	}
	// Same seed, same models: the draws are recorded in the manifests.
	out2, err := Merge(s, MergeRequest{Out: "again", From: []string{"p-0", "p-1", "p-2"}, Method: "random", Count: 4, Seed: 9})
	if err != nil {
		t.Fatal(err)
	}
	for i := range out2.Merged {
		if out2.Merged[i].Plan != out.Merged[i].Plan {
			t.Errorf("seed 9 drew %s, then %s", out.Merged[i].Plan, out2.Merged[i].Plan)
		}
	}
}

func TestMergeRecipeAndBadRequests(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	tinyPopulation(t, s, dir, "p", 2, vit.Shuffle, false)
	wide := tinyRequest("wide", dir, vit.Shuffle)
	wide.Config.Dim, wide.Options.Epochs = 32, 1
	if _, err := Train(s, wide); err != nil {
		t.Fatal(err)
	}
	write := func(text string) string {
		f := filepath.Join(t.TempDir(), "r.yaml")
		os.WriteFile(f, []byte(text), 0o644)
		return f
	}
	good := write("stem: p-1\nslices:\n  - model: p-0\n    layer_range: [0, 2]\n  - model: p-1\n    blocks: [2, 2]\n")
	out, err := Merge(s, MergeRequest{Out: "r", Method: "recipe:" + good, Eval: true})
	if err != nil {
		t.Fatal(err)
	}
	man, _ := s.Get("r")
	p0, _ := s.Get("p-0")
	p1, _ := s.Get("p-1")
	want := []checkpoint.PartRef{p0.Blocks[0], p0.Blocks[1], p1.Blocks[2], p1.Blocks[2]}
	if !slices.Equal(man.Blocks, want) || man.Stem != p1.Stem || man.Head != p1.Head {
		t.Errorf("stored plan %v, want %v", man.Blocks, want)
	}
	recipe, err := modelstore.ManifestRecipe(man)
	if err != nil || recipe == nil || recipe.Merge == nil {
		t.Fatalf("the recipe is not kept beside the model: %+v, %v", recipe, err)
	}
	if rec := recipe.Merge; rec.Method != "recipe" || !strings.Contains(rec.RecipeText, "layer_range: [0, 2]") {
		t.Errorf("the recipe is not kept beside the model: %+v", rec)
	}
	if out.Merged[0].TestSequential <= 0 {
		t.Errorf("not evaluated: %+v", out.Merged[0])
	}
	rebuild(t, s, "r")
	snap := snapshotDir(t, s.Dir)
	for _, tc := range []struct {
		req  MergeRequest
		want []string
	}{
		{MergeRequest{Out: "x", Method: "recipe:" + write("stem: p-0\nslices:\n  - model: nobody\n    blocks: [0]\n  - model: p-0\n    blocks: [7]\n  - model: wide\n    blocks: [0]\n")},
			[]string{`unknown model "nobody"`, "block 7 is out of range", "width 32", "3 problems"}},
		{MergeRequest{Out: "x", Method: "recipe:" + write("stem: [p-0, p-1]\nslices: []\n")}, []string{"got a list of 2", "slices is empty"}},
		{MergeRequest{Out: "x", Method: "recipe:" + write("slices: [{model: p-0, blocks: [0]}")}, []string{"r.yaml", "YAML syntax error"}},
		{MergeRequest{Out: "x", Method: "recipe:" + filepath.Join(t.TempDir(), "none.yaml")}, []string{"none.yaml", "no such file"}},
		{MergeRequest{Out: "r", Method: "recipe:" + good}, []string{"already exists"}},
		{MergeRequest{Out: "x", Method: "random", Count: 2, From: []string{"p-0", "ghost"}}, []string{"--from", "ghost"}},
		{MergeRequest{Out: "p", Method: "random", Count: 2, From: []string{"p"}}, []string{"models p-0, p-1 already exist"}},
		{MergeRequest{Out: "x", Method: "random", Count: 0, From: []string{"p"}}, []string{"--count"}},
		{MergeRequest{Out: "x", Method: "random", Count: 2_000_000_000, From: []string{"p"}}, []string{"--count must be from 1 to 10000"}},
		{MergeRequest{Out: "x", Method: "blend", From: []string{"p"}}, []string{"--method", "blend"}},
		{MergeRequest{Out: "x", Method: "random", Count: 1, From: []string{"p-0", "wide"}, Eval: true}, []string{"width"}},
		{MergeRequest{Out: "bad/name", Method: "random", Count: 1, From: []string{"p"}}, []string{"invalid model name"}},
	} {
		_, err := Merge(s, tc.req)
		if err == nil {
			t.Errorf("%+v: no error", tc.req)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %q lacks %q", tc.req, err, w)
			}
		}
		if strings.Contains(err.Error(), "\n") {
			t.Errorf("multi-line error %q", err)
		}
	}
	if !slices.Equal(snap, snapshotDir(t, s.Dir)) {
		t.Error("a refused merge changed the store")
	}
	// The splice keeps its donors' blobs alive: removing a donor leaves it whole.
	before, _, _ := loadModel(s, "r")
	if _, err := s.Remove("p-0"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GC(); err != nil {
		t.Fatal(err)
	}
	after, _, err := loadModel(s, "r")
	if err != nil {
		t.Fatalf("the splice after its donor was removed: %v", err)
	}
	if !slices.Equal(after.Blocks[0].QkvW.Data(), before.Blocks[0].QkvW.Data()) {
		t.Error("the splice's first block changed after its donor was removed")
	}

}

// A splice whose plan is shorter than its stem model's depth exports with
// its blocks in plan order and imports back with the same logits.
func TestMergedModelExportsAndImports(t *testing.T) {
	s := openStore(t)
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: 3, Classes: 4,
		Variant: vit.ShufflePosition, PosDim: 4}
	storeRandomModel(t, s, "a", c, 1)
	storeRandomModel(t, s, "b", c, 2)
	recipe := filepath.Join(t.TempDir(), "r.yaml")
	os.WriteFile(recipe, []byte("stem: a\nslices: [{model: b, blocks: [2]}, {model: a, blocks: [0]}]\n"), 0o644)
	if _, err := Merge(s, MergeRequest{Out: "f", Method: "recipe:" + recipe}); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "f.safetensors")
	if err := s.Export("f", file); err != nil {
		t.Fatal(err)
	}
	ts, _, err := checkpoint.ReadSafetensorsFile(file)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _ := loadModel(s, "b")
	if got, want := ts["blocks.0.attn.qkv.weight"].Data, b.Blocks[2].QkvW.Data(); !slices.Equal(got, want) {
		t.Error("blocks.0 of the export is not b's block 2, the plan's first block")
	}
	if _, ok := ts["blocks.2.norm1.weight"]; ok {
		t.Error("the export of a 2-block plan has a block 2")
	}
	if _, err := Import(s, ImportRequest{File: file, Name: "g"}); err != nil {
		t.Fatal(err)
	}
	f, _, _ := loadModel(s, "f")
	g, _, err := loadModel(s, "g")
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 3*c.ImageSize())
	for i := range x {
		x[i] = float32(i%9) - 4
	}
	want := slices.Clone(vit.NewRunner(f).Logits(x, 3, f.Sequential()))
	if got := vit.NewRunner(g).Logits(x, 3, g.Sequential()); len(g.Blocks) != 2 || !slices.Equal(got, want) {
		t.Errorf("the re-imported splice (%d blocks) computes other logits", len(g.Blocks))
	}
}

func TestMergeSoups(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	tinyPopulation(t, s, dir, "p", 3, vit.Shuffle, false)
	greedy, err := Merge(s, MergeRequest{Out: "g", From: []string{"p"}, Method: "greedy-soup", Eval: true, Orders: 2})
	if err != nil {
		t.Fatal(err)
	}
	best := 0.0
	for _, m := range greedy.Sources {
		best = max(best, m.ValAccuracy)
	}
	soup := greedy.Merged[0]
	if soup.ValAccuracy < best || soup.ValAccuracy != greedy.Soup.Score {
		t.Errorf("greedy soup val %v (score %v), best member %v", soup.ValAccuracy, greedy.Soup.Score, best)
	}
	uniform, err := Merge(s, MergeRequest{Out: "u", From: []string{"p-0", "p-1", "p-2"}, Method: "uniform-soup"})
	if err != nil || len(uniform.Soup.Ingredients) != 3 {
		t.Fatalf("uniform: %+v, %v", uniform, err)
	}
	// Real new weights, recorded so they can be rebuilt: the average of the
	// recorded ingredients has the stored blobs' digests.
	for _, name := range []string{"g", "u"} {
		man, err := s.Get(name)
		if err != nil {
			t.Fatal(err)
		}
		recipe, err := modelstore.ManifestRecipe(man)
		if err != nil || recipe == nil || recipe.Merge == nil || recipe.Merge.Soup == nil {
			t.Fatalf("%s: recipe %+v, %v", name, recipe, err)
		}
		rec := recipe.Merge
		var ms []*vit.Model
		for _, n := range rec.Soup.Ingredients {
			m, _, err := loadModel(s, n)
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		again, err := merge.Average(name, ms...)
		if err != nil {
			t.Fatal(err)
		}
		p0, _ := s.Get("p-0")
		if man.Blocks[0].Blob == p0.Blocks[0].Blob && len(ms) > 1 {
			t.Errorf("%s: block 0 is p-0's: not a new weight", name)
		}
		for i, b := range again.Blocks {
			digest, err := s.PutBlob(modelstore.PartTensors(b.Params()))
			if err != nil || digest != man.Blocks[i].Blob || man.Blocks[i].Source != name {
				t.Errorf("%s block %d: rebuilt %s, stored %+v (%v)", name, i, digest, man.Blocks[i], err)
			}
		}
	}
}

func TestMergeSearch(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	tinyPopulation(t, s, dir, "p", 3, vit.Shuffle, false)
	req := MergeRequest{Out: "best", From: []string{"p"}, Method: "search", Seed: 2, Eval: true,
		Search: merge.SearchOptions{MinDepth: 2, MaxDepth: 4, Population: 6, Generations: 3}}
	out, err := Merge(s, req)
	if err != nil {
		t.Fatal(err)
	}
	r := out.Search
	bestMember, bestName := 0.0, ""
	for _, m := range out.Sources {
		if m.ValAccuracy > bestMember {
			bestMember, bestName = m.ValAccuracy, m.Name
		}
	}
	if r.Options.Stem != bestName || r.Baseline.Score != bestMember {
		t.Errorf("stem %s (own plan %v), the best member is %s (%v)", r.Options.Stem, r.Baseline.Score, bestName, bestMember)
	}
	if r.Best.Score < bestMember || out.Merged[0].ValAccuracy != r.Best.Score {
		t.Errorf("search val %v (stored model %v) < best member's %v", r.Best.Score, out.Merged[0].ValAccuracy, bestMember)
	}
	if d := len(r.Best.Blocks); d < 2 || d > 4 || len(r.Generations) != 3 || r.BestTest != out.Merged[0].TestSequential {
		t.Errorf("best plan of %d blocks, %d generations, test %v vs %v", d, len(r.Generations), r.BestTest, out.Merged[0].TestSequential)
	}
	rebuild(t, s, "best")
	tables := MergeTables(out)
	if len(tables) != 4 || !strings.Contains(tables[2].Title, "search") {
		t.Errorf("tables: %d", len(tables))
	}
	req.Out, req.Search.MinDepth = "bad", 9
	if _, err := Merge(s, req); err == nil || !strings.Contains(err.Error(), "--min-depth 9") {
		t.Errorf("bad depth bounds: %v", err)
	}
}

// Independent members aligned to the first: the aligned copies keep their
// accuracy (same function), and a group record lets --from expand to them.
func TestMergeAlign(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	tinyPopulation(t, s, dir, "ind", 3, vit.Shuffle, true)
	out, err := Merge(s, MergeRequest{Out: "al", From: []string{"ind"}, Method: "align", Eval: true, Orders: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Merged) != 3 || len(out.Align.Models) != 2 {
		t.Fatalf("outcome %+v", out)
	}
	for i, m := range out.Merged {
		src := out.Sources[i]
		if m.TestSequential != src.TestSequential || m.ValAccuracy != src.ValAccuracy {
			t.Errorf("%s: test %v val %v, its source %s: %v %v: alignment changed the function", m.Name, m.TestSequential,
				m.ValAccuracy, src.Name, src.TestSequential, src.ValAccuracy)
		}
	}
	for _, a := range out.Align.Models {
		if a.After <= a.Before {
			t.Errorf("%s: weight cosine %v before, %v after", a.Source, a.Before, a.After)
		}
	}
	ref, _ := s.Get("ind-0")
	al0, _ := s.Get("al-0")
	al1, _ := s.Get("al-1")
	ind1, _ := s.Get("ind-1")
	if al0.Blocks[0] != ref.Blocks[0] || al1.Blocks[0].Blob == ind1.Blocks[0].Blob || al1.Blocks[0].Source != "al-1" {
		t.Error("al-0 should point at the reference's blobs, al-1 hold new weights")
	}
	// The reference's record keeps its splice (it rebuilds from it) and
	// lists both alignments.
	rebuild(t, s, "al-0")
	var rec merge.Record
	if err := json.Unmarshal(al0.Recipe, &rec); err != nil || rec.Align == nil || len(rec.Align.Models) != 2 ||
		rec.Splice.String() != "stem ind-0, head ind-0: ind-0[0] ind-0[1] ind-0[2]" {
		t.Errorf("al-0's recipe: %s (%v)", al0.Recipe, err)
	}
	if _, err := Merge(s, MergeRequest{Out: "fr", From: []string{"al"}, Method: "random", Count: 2, Seed: 1}); err != nil {
		t.Errorf("splicing the aligned population: %v", err)
	}
	if _, err := Merge(s, MergeRequest{Out: "one", From: []string{"ind-0"}, Method: "align"}); err == nil || !strings.Contains(err.Error(), "at least one model") {
		t.Errorf("align with one model: %v", err)
	}
}
