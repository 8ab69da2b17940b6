package speed

import (
	"math"
	"testing"

	"github.com/google/pprof/profile"
)

// TestTopFunctions sums flat time on the innermost (inlined) function of
// each sample's leaf and orders by it.
func TestTopFunctions(t *testing.T) {
	fn := func(id uint64, name string) *profile.Function { return &profile.Function{ID: id, Name: name} }
	gemm, clr, outer := fn(1, "gemm"), fn(2, "memclr"), fn(3, "outer")
	leaf := &profile.Location{ID: 1, Line: []profile.Line{{Function: gemm}, {Function: outer}}} // gemm inlined into outer
	other := &profile.Location{ID: 2, Line: []profile.Line{{Function: clr}}}
	caller := &profile.Location{ID: 3, Line: []profile.Line{{Function: outer}}}
	p := &profile.Profile{
		SampleType: []*profile.ValueType{{Type: "samples", Unit: "count"}, {Type: "cpu", Unit: "nanoseconds"}},
		Sample: []*profile.Sample{
			{Location: []*profile.Location{leaf, caller}, Value: []int64{1, 60}},
			{Location: []*profile.Location{other, caller}, Value: []int64{1, 30}},
			{Location: []*profile.Location{caller}, Value: []int64{5, 10}}, // the count column must not be used
		},
	}
	top := topFunctions(p, 2)
	if len(top) != 2 || top[0].Function != "gemm" || top[1].Function != "memclr" {
		t.Fatalf("top %+v", top)
	}
	if math.Abs(top[0].Flat-0.6) > 1e-12 || math.Abs(top[1].Flat-0.3) > 1e-12 {
		t.Errorf("fractions %+v, want 0.6 and 0.3", top)
	}
	if all := topFunctions(p, 10); len(all) != 3 || all[2].Function != "outer" {
		t.Errorf("all %+v", all)
	}
}
