package workflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/datamerge"
	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/modelstore"
)

// Every data-driven merge runs on a multi-task population's children, each
// child reading its own task's split, is stored with the data it read and
// what it learned, and is evaluated on every task.
func TestMergeLearnedMethods(t *testing.T) {
	s, _ := trainedTaskPopulation(t)
	wantSplit := map[string]string{"fisher": "train", "regmean": "train", "adamerging": "test", "adamerging-blocks": "test", "evolve": "val"}
	for _, method := range datamerge.Methods {
		req := MergeRequest{Out: "m-" + method, From: []string{"mt"}, Method: method, Eval: true, Seed: 1,
			Learned: LearnedOptions{Images: 40, Steps: 3, Evaluations: 6}}
		out, err := Merge(s, req)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if !out.Merged[0].Evaluated || !strings.Contains(out.Data, "mean over 3 tasks") {
			t.Errorf("%s: outcome %+v", method, out)
		}
		man, err := s.Get(req.Out)
		if err != nil {
			t.Fatal(err)
		}
		recipe, err := modelstore.ManifestRecipe(man)
		if err != nil || recipe.Merge == nil {
			t.Fatalf("%s: recipe %v", method, err)
		}
		rec := recipe.Merge
		if rec.Data == nil || rec.Data.Split != wantSplit[method] || rec.Data.Images != 40 || rec.Data.Labels != (method == "fisher" || method == "evolve") {
			t.Errorf("%s: data %+v", method, rec.Data)
		}
		if learns := strings.HasPrefix(method, "adamerging") || method == "evolve"; learns != (rec.Learned != nil) || learns != (rec.Base == "mt-parent") {
			t.Errorf("%s: learned %+v, base %q", method, rec.Learned, rec.Base)
		}
	}
	// Bad requests are refused before anything is read or stored.
	for _, bad := range []struct {
		req  MergeRequest
		want string
	}{
		{MergeRequest{Out: "b1", From: []string{"mt"}, Method: "fisher", Params: methods.Params{"density": 0.5}}, `fisher takes no parameter "density"`},
		{MergeRequest{Out: "b2", From: []string{"mt"}, Method: "regmean", Learned: LearnedOptions{Images: 100000}}, "--images 100000"},
		{MergeRequest{Out: "b3", From: []string{"mt"}, Method: "evolve", Learned: LearnedOptions{EvolveMethod: "tiez"}}, `unknown method "tiez"`},
		{MergeRequest{Out: "b4", From: []string{"mt-0"}, Method: "adamerging", Learned: LearnedOptions{Steps: -1}}, "at least 2 models"},
		{MergeRequest{Out: "b5", From: []string{"mt-0"}, Method: "adamerging", Learned: LearnedOptions{Steps: -1}}, "--steps, --evaluations and --lr must not be negative"},
	} {
		if _, err := Merge(s, bad.req); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v, want %q", bad.req.Method, err, bad.want)
		}
		if s.Exists(bad.req.Out) {
			t.Errorf("%s: a bad request stored %s", bad.req.Method, bad.req.Out)
		}
	}
}

// A mergekit configuration may name a data-driven merge with its
// merge-wide parameters; what does not apply to it is refused with the
// configuration's other problems, before anything is read.
func TestMergekitLearned(t *testing.T) {
	s, _ := trainedTaskPopulation(t)
	write := func(name, text string) string {
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := write("ada.yaml", "merge_method: adamerging-blocks\nbase_model: mt-parent\nmodels:\n  - model: mt-0\n  - model: mt-1\n  - model: mt-2\nparameters:\n  images: 40\n  steps: 3\n  lr: 0.01\n")
	if _, err := Merge(s, MergeRequest{Out: "ada", Method: "recipe:" + good, Eval: true}); err != nil {
		t.Fatal(err)
	}
	man, _ := s.Get("ada")
	recipe, err := modelstore.ManifestRecipe(man)
	if err != nil || recipe.Merge == nil || recipe.Merge.Method != "adamerging-blocks" || recipe.Merge.Data.Images != 40 ||
		!strings.Contains(recipe.Merge.RecipeText, "lr: 0.01") || recipe.Merge.Learned == nil || recipe.Merge.Learned.Steps != 3 {
		t.Fatalf("record %+v, %v", recipe.Merge, err)
	}
	bad := write("bad.yaml", "merge_method: regmean\nmodels:\n  - model: mt-0\n    parameters: {weight: 1}\n  - model: mt-1\nparameters:\n  alpha: [0.5, 0.9]\n  density: 0.5\n")
	_, err = Merge(s, MergeRequest{Out: "bad", Method: "recipe:" + bad})
	for _, want := range []string{`unknown parameter "density"`, "regmean takes no per-model parameters", "alpha: regmean takes one number"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad config: %v, want %q", err, want)
		}
	}
	if s.Exists("bad") {
		t.Error("a bad config stored its model")
	}
}
