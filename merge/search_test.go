package merge

import (
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

// planScorer scores plans with f over their refs, recording every plan's depth.
func planScorer(p *Pool, f func([]Ref) float64, depths *[]int) PlanScorer {
	where := map[*vit.Block]Ref{}
	for _, m := range p.Models {
		for i, b := range m.Blocks {
			where[b] = Ref{m.Name, i}
		}
	}
	return func(plans []vit.Plan) []float64 {
		out := make([]float64, len(plans))
		for i, pl := range plans {
			refs := make([]Ref, len(pl))
			for j, b := range pl {
				refs[j] = where[b]
			}
			out[i] = f(refs)
			*depths = append(*depths, len(pl))
		}
		return out
	}
}

// matches counts the slots where plan agrees with target, minus 0.1 per
// slot of length difference.
func matches(plan, target []Ref) float64 {
	s := 0.0
	for i := range plan {
		if i < len(target) && plan[i] == target[i] {
			s++
		}
	}
	d := len(plan) - len(target)
	if d < 0 {
		d = -d
	}
	return s - 0.1*float64(d)
}

func TestSearchGreedyFindsSeparableOptimum(t *testing.T) {
	p := tinyPool(t, "a", "b", "c")
	target := []Ref{{"b", 2}, {"a", 0}, {"c", 1}, {"c", 1}}
	var depths []int
	res, err := Search(p, SearchOptions{Stem: "a", MinDepth: 2, MaxDepth: 5}, planScorer(p, func(r []Ref) float64 { return matches(r, target) }, &depths), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Greedy.Blocks, target) || res.Greedy.Score != 4 || !reflect.DeepEqual(res.Best.Blocks, target) {
		t.Errorf("greedy %v (%v), best %v, want %v", res.Greedy.Blocks, res.Greedy.Score, res.Best.Blocks, target)
	}
	// The best score after each greedy step: one matching slot more per
	// step, less 0.1 per slot short of the target's 4, then a fifth slot
	// that matches nothing and costs 0.1.
	want := []float64{0.7, 1.8, 2.9, 4, 3.9}
	if len(res.GreedyTrace) != len(want) {
		t.Errorf("greedy trace %v, want %v", res.GreedyTrace, want)
	}
	for i := range min(len(want), len(res.GreedyTrace)) {
		if math.Abs(res.GreedyTrace[i]-want[i]) > 1e-12 {
			t.Errorf("greedy trace step %d: %v, want %v (trace %v)", i, res.GreedyTrace[i], want[i], res.GreedyTrace)
		}
	}
	if res.Baseline.Score != matches(Sequential(p.Get("a")).Blocks, target) {
		t.Errorf("baseline %+v", res.Baseline)
	}
}

// A trap at slot 0 holds greedy selection at a local optimum; the
// evolution gets out of it, and never leaves the depth bounds.
func TestSearchEvolutionEscapesGreedyTrap(t *testing.T) {
	p := tinyPool(t, "a", "b", "c")
	target := []Ref{{"c", 0}, {"b", 1}, {"a", 2}, {"b", 0}}
	trap := Ref{"a", 1}
	score := func(r []Ref) float64 {
		if r[0] == trap {
			return 1.5
		}
		return matches(r, target)
	}
	var depths []int
	opt := SearchOptions{Stem: "b", MinDepth: 2, MaxDepth: 5, Population: 16, Generations: 40, Seed: 2}
	res, err := Search(p, opt, planScorer(p, score, &depths), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Greedy.Score != 1.5 || res.Greedy.Blocks[0] != trap {
		t.Errorf("greedy should fall into the trap: %+v", res.Greedy)
	}
	if !reflect.DeepEqual(res.Best.Blocks, target) || res.Best.Score != 4 {
		t.Errorf("evolution found %v (%v), want %v", res.Best.Blocks, res.Best.Score, target)
	}
	for _, d := range depths {
		if d < 1 || d > 5 {
			t.Fatalf("a plan of %d slots was scored, bounds [2, 5] (greedy's first slot is 1)", d)
		}
	}
	if len(res.Generations) != 40 || res.Generations[39].Best != 4 || res.Generations[0].Best > res.Generations[39].Best {
		t.Errorf("generations %+v", res.Generations)
	}
	again, _ := Search(p, opt, planScorer(p, score, &depths), nil)
	if !reflect.DeepEqual(again, res) {
		t.Error("the same seed searched differently")
	}
	// Over seeds: the evolution is a search, not a guarantee, but it should
	// mostly find the optimum and almost always leave the trap.
	found, escaped := 0, 0
	for seed := uint64(1); seed <= 10; seed++ {
		opt.Seed = seed
		r, _ := Search(p, opt, planScorer(p, score, &depths), nil)
		if r.Best.Score == 4 {
			found++
		}
		if r.Best.Score > 1.5 {
			escaped++
		}
	}
	if found < 5 || escaped < 8 {
		t.Errorf("over 10 seeds the evolution found the optimum %d times and left the trap %d times", found, escaped)
	}
}

// The result is never worse than the stem model's own plan.
func TestSearchNeverLosesToTheStemModel(t *testing.T) {
	p := tinyPool(t, "a", "b", "c")
	own := Sequential(p.Get("c")).Blocks
	score := func(r []Ref) float64 { // only c's own plan is any good
		if reflect.DeepEqual(r, own) {
			return 0.9
		}
		return 0.1 * float64(len(r)) / 3
	}
	var depths []int
	res, err := Search(p, SearchOptions{Stem: "c", Population: 4, Generations: 2, Seed: 1}, planScorer(p, score, &depths), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Best.Score < res.Baseline.Score || !reflect.DeepEqual(res.Best.Blocks, own) || res.Baseline.Score != 0.9 {
		t.Errorf("best %+v, baseline %+v", res.Best, res.Baseline)
	}
	for _, tc := range []struct {
		opt  SearchOptions
		want string
	}{
		{SearchOptions{Stem: "zz"}, "--stem"},
		{SearchOptions{Stem: "a", MinDepth: 4, MaxDepth: 2}, "--min-depth 4 and --max-depth 2"},
		{SearchOptions{Stem: "a", Population: 1, Generations: 3}, "--population 1"},
		{SearchOptions{Stem: "a", Population: MaxCount + 1, Generations: 1}, "--population 10001 is more than 10000 plans"},
	} {
		if _, err := Search(p, tc.opt, planScorer(p, score, &depths), nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v", tc.opt, err)
		}
	}
}
