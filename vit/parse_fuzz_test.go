package vit

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseIndices: a block list is refused or read as non-negative
// integers that print back to an equivalent list.
func FuzzParseIndices(f *testing.F) {
	for _, s := range []string{"0,3,1", "0", "", ",", "1,,2", " 2 , 5", "-1", "x", "99999999999999999999999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		idx, err := ParseIndices(s)
		if err != nil {
			return
		}
		parts := make([]string, len(idx))
		for i, k := range idx {
			if k < 0 {
				t.Fatalf("%q: negative index %d accepted", s, k)
			}
			parts[i] = strconv.Itoa(k)
		}
		again, err := ParseIndices(strings.Join(parts, ","))
		if err != nil || !reflect.DeepEqual(again, idx) {
			t.Fatalf("%q read as %v, re-read as %v (%v)", s, idx, again, err)
		}
	})
}
