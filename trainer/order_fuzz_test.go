package trainer

import (
	"reflect"
	"slices"
	"testing"
)

// FuzzParseOrder: any --order either is refused or round-trips through its
// String form, and its plans for a small model are permutations or lists of
// the right length.
func FuzzParseOrder(f *testing.F) {
	for _, s := range []string{"", "sequential", "reversed", "random", "random:5", "random:0", "random:-1", "0,3,1",
		"1, 2", "a,b", ",", "random:99999999999999999999", "3,-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOrder(s)
		if err != nil {
			return
		}
		again, err := ParseOrder(o.String())
		if err != nil || !reflect.DeepEqual(again, o) {
			t.Fatalf("%q parsed as %+v, printed %q, re-parsed as %+v (%v)", s, o, o.String(), again, err)
		}
		if o.Kind == "random" && o.K > 64 {
			return // drawing millions of permutations proves nothing more
		}
		const depth = 4
		for _, p := range o.Plans(depth, 1) {
			if o.Kind != "list" && !slices.Equal(slices.Sorted(slices.Values(p)), []int{0, 1, 2, 3}) {
				t.Fatalf("%q: plan %v is not a permutation of the %d blocks", s, p, depth)
			}
			if o.Kind == "list" && !reflect.DeepEqual(p, o.Indices) {
				t.Fatalf("%q: plan %v, want the list %v", s, p, o.Indices)
			}
		}
	})
}
