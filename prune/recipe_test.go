package prune

import (
	"encoding/json"
	"testing"
)

// A prune's recipe shows field by field, as its JSON in the manifest.
func TestRecipeDescribe(t *testing.T) {
	r := Recipe{Kind: "prune", From: "m", MeasuredOn: "val split of mnist, 10 images",
		Result: Result{Strategy: Greedy, Remove: 1, Kept: []int{0, 2}, Removed: []int{1}, Scores: []float64{0.5}, Order: []int{1}}}
	tb := r.Describe()
	want := [][2]string{{"from", "m"}, {"kept", "[0,2]"}, {"kind", "prune"}, {"measured_on", "val split of mnist, 10 images"},
		{"order", "[1]"}, {"remove", "1"}, {"removed", "[1]"}, {"scores", "[0.5]"}, {"strategy", "greedy"}}
	if tb.Title != "recipe" || len(tb.Rows) != len(want) {
		t.Fatalf("table %+v", tb)
	}
	for i, w := range want {
		if tb.Rows[i][0] != w[0] || tb.Rows[i][1] != w[1] {
			t.Errorf("row %d is %q, want %q", i, tb.Rows[i], w)
		}
	}
	raw, _ := json.Marshal(r)
	var back Recipe
	if err := json.Unmarshal(raw, &back); err != nil || back.Strategy != Greedy || back.From != "m" {
		t.Errorf("round trip: %+v, %v", back, err)
	}
}
