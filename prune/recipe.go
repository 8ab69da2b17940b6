package prune

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/frankenvit/frankenvit/table"
)

// Recipe is how a pruned model was made, kept in its manifest (the "recipe"
// field): the model it was pruned from, what the data-driven strategies
// measured on, and the decision.
type Recipe struct {
	Kind       string `json:"kind"` // "prune"
	From       string `json:"from"`
	MeasuredOn string `json:"measured_on,omitempty"`
	Result
}

// Describe renders the recipe as `store show` shows it: one row per field
// of its JSON, in the order of the field names, each value as one line of
// JSON (a string without its quotes).
func (r *Recipe) Describe() *table.Table {
	t := &table.Table{Title: "recipe", Header: []string{"field", "value"}}
	raw, err := json.Marshal(r)
	var obj map[string]json.RawMessage
	if err == nil {
		err = json.Unmarshal(raw, &obj)
	}
	if err != nil {
		t.Add("recipe", fmt.Sprintf("%+v", *r))
		return t
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		var s string
		if json.Unmarshal(obj[k], &s) == nil {
			t.Add(k, s)
		} else {
			t.Add(k, strings.TrimSpace(string(obj[k]))) // json.Marshal writes compact JSON
		}
	}
	return t
}
