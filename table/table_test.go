package table

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestJSONCell(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{"plain", "plain"},
		{json.RawMessage(`"quoted"`), "quoted"},
		{json.RawMessage("{ \"a\" : [1, 2] }"), `{"a":[1,2]}`},
		{json.RawMessage(`{not json`), `{not json`},
		{map[string]int{"b": 2, "a": 1}, `{"a":1,"b":2}`},
		{0.5, "0.5"},
		{func() {}, "0x"}, // not JSON: printed by fmt (a pointer)
	} {
		got := JSONCell(tc.v)
		if tc.want == "0x" {
			if len(got) < 2 || got[:2] != "0x" {
				t.Errorf("JSONCell(func) = %q, want fmt's pointer", got)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("JSONCell(%v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

func TestFields(t *testing.T) {
	tb := &Table{Title: "t"}
	tb.Add("a", "1")
	tb.Add("b", "2")
	if got, err := tb.Fields(); err != nil || len(got) != 2 || got["b"] != "2" {
		t.Errorf("fields %v, %v", got, err)
	}
	tb.Add("a", "3")
	if _, err := tb.Fields(); err == nil || !strings.Contains(err.Error(), `field "a" twice`) {
		t.Errorf("a field twice: %v", err)
	}
	tb.Rows = [][]string{{"a", "1", "x"}}
	if _, err := tb.Fields(); err == nil || !strings.Contains(err.Error(), "3 cells") {
		t.Errorf("three cells: %v", err)
	}
}
