package table

import (
	"encoding/json"
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
