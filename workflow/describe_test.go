package workflow

import (
	"encoding/json"
	"testing"

	"github.com/frankenvit/frankenvit/checkpoint"
	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/modelstore"
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

// An imported model shows its preprocessing, origin and class names.
func TestDescribeImported(t *testing.T) {
	pre, _ := json.Marshal(dataset.TimmPreprocess(224, 224, 3))
	training, _ := json.Marshal(modelstore.TrainingRecord{ImportedFrom: "hub/vit", Format: "hf", Labels: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}})
	man := &checkpoint.Manifest{Name: "vit", Status: "complete", Preprocess: pre, Training: training,
		Config: json.RawMessage(`{"image_height":224,"image_width":224,"channels":3,"patch":16,"dim":192,"heads":3,"mlp":768,"depth":12,"classes":11,"variant":"baseline","layer_norm_eps":1e-12}`)}
	got := rowsOf(t, DescribeManifest(man)[0])
	if got["preprocess"] != "224x224x3, resize shorter, crop_pct 0.9, bicubic; training: random crops scale 0.08..1, ratio 0.75..1.33, flips 0.5" ||
		got["imported from"] != "hub/vit (hf)" || got["labels"] != "a, b, c, d, e, f, g, h, i, j, ... (11 classes)" || got["layer norm eps"] != "1e-12" {
		t.Errorf("rows %q", got)
	}
}
