package workflow

import (
	"encoding/json"
	"testing"

	"github.com/frankenvit/frankenvit/merge"
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

// A merge's record and a prune's recipe describe themselves (their own
// tests check the rows); anything else shows key by key; none, no table.
func TestDescribeRecipe(t *testing.T) {
	raw, _ := json.Marshal(merge.Record{Method: "uniform-soup", From: []string{"a", "b"}, Soup: &merge.SoupResult{Ingredients: []string{"a", "b"}}})
	if tb := DescribeRecipe(raw); tb == nil || tb.Title != "recipe (merge --method uniform-soup)" || rowsOf(t, tb)["ingredients"] != "2: a, b" {
		t.Errorf("merge record: %+v", tb)
	}
	tb := DescribeRecipe(json.RawMessage(`{"kind":"prune","from":"m","kept":[0,2],"removed":[1],"strategy":"last","remove":1}`))
	got := rowsOf(t, tb)
	if tb.Title != "recipe" || got["kind"] != "prune" || got["from"] != "m" || got["kept"] != "[0,2]" || got["strategy"] != "last" {
		t.Errorf("prune recipe: %+v", tb)
	}
	tb = DescribeRecipe(json.RawMessage(`{"kind":"other","a b":{"x": [1, 2]}," ":1}`))
	if got := rowsOf(t, tb); got["kind"] != "other" || got["a b"] != `{"x":[1,2]}` || got[`" "`] != "1" {
		t.Errorf("another recipe: %+v", tb)
	}
	if tb := DescribeRecipe(json.RawMessage(`[1, 2]`)); tb == nil || len(tb.Rows) != 1 || tb.Rows[0][1] != "[1,2]" {
		t.Errorf("a list recipe: %+v", tb)
	}
	for _, none := range []string{"", " ", "null"} {
		if tb := DescribeRecipe(json.RawMessage(none)); tb != nil {
			t.Errorf("recipe %q gave a table %+v", none, tb)
		}
	}
}
