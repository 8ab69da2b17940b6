package workflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/modelstore"
	"github.com/frankenvit/frankenvit/vit"
)

func TestMergeWeightsTies(t *testing.T) {
	dir := stripesDir(t)
	s := openStore(t)
	tinyPopulation(t, s, dir, "p", 3, vit.Shuffle, false)

	// A bad request: an unknown parameter and a density out of range, one
	// error naming both, and nothing stored.
	before, _ := os.ReadDir(filepath.Join(s.Dir, "blobs", "sha256"))
	_, err := Merge(s, MergeRequest{Out: "bad", From: []string{"p"}, Method: "ties", Params: methods.Params{"colour": 1, "density": 1.5}, Eval: true})
	if err == nil {
		t.Fatal("a bad ties request ran")
	}
	for _, want := range []string{`unknown parameter "colour"`, "density = 1.5 is out of range"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q: %v", want, err)
		}
	}
	after, _ := os.ReadDir(filepath.Join(s.Dir, "blobs", "sha256"))
	if s.Exists("bad") || len(after) != len(before) {
		t.Errorf("a bad request stored something (%d blobs, then %d)", len(before), len(after))
	}

	// ties of the members, the base defaulting to their parent.
	out, err := Merge(s, MergeRequest{Out: "t", From: []string{"p"}, Method: "ties", Weights: []float64{0.3, 0.3, 0.4},
		Params: methods.Params{"density": 0.5, "lambda": 1}, Eval: true, Orders: 2, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	if out.Method != "ties" || len(out.Sources) != 3 || len(out.Merged) != 1 || !out.Merged[0].Evaluated {
		t.Fatalf("outcome %+v", out)
	}
	if acc := out.Merged[0].TestSequential; acc <= 0 || acc > 1 {
		t.Errorf("test accuracy %v", acc)
	}
	if !strings.Contains(out.Merged[0].Plan, "base p-parent") {
		t.Errorf("plan %q does not name the base", out.Merged[0].Plan)
	}
	man, err := s.Get("t")
	if err != nil {
		t.Fatal(err)
	}
	recipe, err := modelstore.ManifestRecipe(man)
	if err != nil || recipe == nil || recipe.Merge == nil {
		t.Fatalf("recipe %+v, %v", recipe, err)
	}
	rec := recipe.Merge
	if rec.Method != "ties" || rec.Base != "p-parent" || rec.Params["density"] != 0.5 || len(rec.PerModel) != 3 || rec.PerModel[2]["weight"] != 0.4 {
		t.Errorf("record %+v", rec)
	}
	var desc strings.Builder
	if err := rec.Describe().Render(&desc); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ties", "p-parent", "density=0.5", "lambda=1", "weight=0.4"} {
		if !strings.Contains(desc.String(), want) {
			t.Errorf("store show does not say %q:\n%s", want, desc.String())
		}
	}
	// The stored weights are merge.WeightMerge's.
	stored, _, err := loadModel(s, "t")
	if err != nil {
		t.Fatal(err)
	}
	var ms []*vit.Model
	for _, n := range rec.From {
		m, _, err := loadModel(s, n)
		if err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	base, _, _ := loadModel(s, "p-parent")
	per := []methods.Params{{"weight": 0.3}, {"weight": 0.3}, {"weight": 0.4}}
	again, err := merge.WeightMerge("t", "ties", base, ms, per, methods.Params{"density": 0.5, "lambda": 1}, 5)
	if err != nil {
		t.Fatal(err)
	}
	ap := again.Params()
	for k, p := range stored.Params() {
		if d := maxDiff(p.Data(), ap[k].Data()); d != 0 {
			t.Fatalf("%s: stored and rebuilt differ by %g", p.Name, d)
		}
	}

	// Without --weights, every model weighs 1 (the plain sum of task
	// vectors), as the flag example merges.
	if _, err := Merge(s, MergeRequest{Out: "t1", From: []string{"p"}, Method: "ties", Params: methods.Params{"density": 0.5}, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	unweighted, _, err := loadModel(s, "t1")
	if err != nil {
		t.Fatal(err)
	}
	ones, err := merge.WeightMerge("t1", "ties", base, ms, nil, methods.Params{"density": 0.5, "weight": 1}, 5)
	if err != nil {
		t.Fatal(err)
	}
	op := ones.Params()
	for k, p := range unweighted.Params() {
		if d := maxDiff(p.Data(), op[k].Data()); d != 0 {
			t.Fatalf("%s: ties without weights differs from weight 1 for all by %g", p.Name, d)
		}
	}
}

func maxDiff(a, b []float32) float64 {
	d := 0.0
	for i := range a {
		d = max(d, float64(a[i]-b[i]), float64(b[i]-a[i]))
	}
	return d
}
