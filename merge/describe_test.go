package merge

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/table"
)

// rowsOf maps a field/value table's fields to their values.
func rowsOf(t *testing.T, tb *table.Table) map[string]string {
	t.Helper()
	rows, err := tb.Fields()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// A record describes itself as stored: through its JSON and back.
func TestRecordDescribe(t *testing.T) {
	sp := &Splice{Stem: "a", Head: "b", Blocks: []Ref{{Model: "b", Index: 1}, {Model: "a", Index: 0}}}
	cases := []struct {
		rec   Record
		title string
		want  map[string]string
	}{
		{Record{Method: "random", From: []string{"a", "b"}, Splice: sp, Draw: 0},
			"recipe (merge --method random)", map[string]string{"method": "random", "from": "a, b", "seed": "0",
				"draw": "0 (0-based, of --count)", "any block": "false", "plan": "stem a, head b: b[1] a[0]"}},
		{Record{Method: "recipe", From: []string{"a", "b"}, Splice: sp, RecipeFile: "r.yaml", RecipeText: "stem: a\n"},
			"recipe (merge --method recipe)", map[string]string{"method": "recipe", "from": "a, b",
				"plan": "stem a, head b: b[1] a[0]", "recipe file": "r.yaml", "recipe text": "stem: a"}},
		{Record{Method: "greedy-soup", From: []string{"a", "b"}, Soup: &SoupResult{Greedy: true, Ingredients: []string{"b"},
			Score: 0.5, Steps: []SoupStep{{Model: "b", Alone: 0.5, WithIt: 0.5, Kept: true}, {Model: "a", Alone: 0.4, WithIt: 0.25}}}},
			"recipe (merge --method greedy-soup)", map[string]string{"method": "greedy-soup", "from": "a, b", "ingredients": "1: b",
				"candidate b": "kept: alone 50.00%, soup with it 50.00%", "candidate a": "dropped: alone 40.00%, soup with it 25.00%",
				"soup validation score": "50.00%"}},
		{Record{Method: "uniform-soup", From: []string{"a", "b"}, Soup: &SoupResult{Ingredients: []string{"a", "b"}}},
			"recipe (merge --method uniform-soup)", map[string]string{"method": "uniform-soup", "from": "a, b", "ingredients": "2: a, b"}},
		{Record{Method: "search", From: []string{"a", "b"}, Seed: 7, Splice: sp, Search: &SearchResult{
			Options:  SearchOptions{Stem: "a", MinDepth: 1, MaxDepth: 2, Population: 4, Generations: 3, Seed: 7},
			Baseline: ScoredPlan{Blocks: []Ref{{Model: "a", Index: 0}, {Model: "a", Index: 1}}, Score: 0.75},
			Greedy:   ScoredPlan{Blocks: []Ref{{Model: "b", Index: 1}}, Score: 0.8},
			Best:     ScoredPlan{Blocks: sp.Blocks, Score: 0.875}, Scored: 12, BaselineTest: 0.7, BestTest: 0.85}},
			"recipe (merge --method search)", map[string]string{"method": "search", "from": "a, b", "seed": "7",
				"plan":           "stem a, head b: b[1] a[0]",
				"search options": "stem and head of a, depth 1..2, population 4, generations 3, seed 7",
				"baseline plan":  "a[0] a[1] (validation 75.00%, test 70.00%)", "greedy plan": "b[1] (validation 80.00%)",
				"best plan": "b[1] a[0] (validation 87.50%, test 85.00%)", "plans scored": "12"}},
		{Record{Method: "align", From: []string{"a", "b"}, Splice: sp, Align: &AlignResult{Reference: "a",
			Models: []AlignedModel{{Name: "al-1", Source: "b", Reference: "a", Iterations: 3, Before: 0.25, After: 0.5,
				Perm: Permutation{Residual: []int{1, 0}}}}}},
			"recipe (merge --method align)", map[string]string{"method": "align", "from": "a, b", "plan": "stem a, head b: b[1] a[0]",
				"reference": "a", "aligned b": "as al-1: weight cosine 0.250 -> 0.500 after 3 iterations",
				"permutations": "stored in the recipe: store show --json"}},
		{Record{Method: "adamerging-blocks", From: []string{"a", "b"}, Base: "p", Data: &DataUse{Split: "test", Images: 1600},
			Learned: &LearnedRecord{What: "merge coefficients (block-wise)", Rows: []string{"stem", "head"}, Cols: []string{"a", "b"},
				Values: [][]float64{{0.3, 0.25}, {0.5, 1}}, Objective: "mean prediction entropy", Start: 0.5, Final: 0.25, Steps: 100}},
			"recipe (merge --method adamerging-blocks)", map[string]string{"method": "adamerging-blocks", "from": "a, b", "base": "p",
				"data":         "1600 images of each source's test split (images only, no labels)",
				"learned":      "merge coefficients (block-wise); mean prediction entropy 0.5 -> 0.25 over 100 steps",
				"learned stem": "a=0.3, b=0.25", "learned head": "a=0.5, b=1"}},
	}
	for _, c := range cases {
		raw, err := json.Marshal(c.rec)
		if err != nil {
			t.Fatal(err)
		}
		var rec Record
		if err := json.Unmarshal(raw, &rec); err != nil {
			t.Fatal(err)
		}
		tb := rec.Describe()
		if tb == nil || tb.Title != c.title {
			t.Fatalf("%s: table %+v", c.rec.Method, tb)
		}
		got := rowsOf(t, tb)
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: %q is %q, want %q", c.rec.Method, k, got[k], v)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: fields %v, want exactly %v", c.rec.Method, got, c.want)
		}
	}
}

// Whatever a stored record holds, describing it does not panic and every
// row has a field and a value.
func FuzzRecordDescribe(f *testing.F) {
	for _, seed := range []string{`{"method":"random","from":["a"],"splice":{"stem":"a","head":"a","blocks":[{"model":"a","index":0}]}}`,
		`{"method":"search","search":{"options":{"stem":"a"}}}`, `{"method":"align","align":{"models":[{}]}}`,
		`{"method":"greedy-soup","soup":{"steps":[{}]},"options":{"x":[1]}}`,
		`{"method":"evolve","data":{"split":"val"},"learned":{"rows":["a"],"cols":[],"values":[[1,2],[3]]}}`, `{"kind":"prune"}`, `"text"`, `null`, `{`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var rec Record
		if json.Unmarshal(raw, &rec) != nil {
			return
		}
		for _, r := range rec.Describe().Rows {
			if len(r) != 2 || strings.TrimSpace(r[0]) == "" {
				t.Errorf("row %q", r)
			}
		}
	})
}
