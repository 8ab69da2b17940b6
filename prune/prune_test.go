package prune

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

func tinyModel(t *testing.T, depth int, seed uint64) *vit.Model {
	t.Helper()
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: depth,
		Classes: 4, Variant: vit.Baseline}
	m, err := vit.NewModel("tiny", c)
	if err != nil {
		t.Fatal(err)
	}
	m.Init(seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	for _, b := range m.Blocks { // big enough weights that every block changes its input
		for _, p := range b.Params() {
			for i := range p.Data() {
				p.Data()[i] += float32(0.3 * rng.NormFloat64())
			}
		}
	}
	return m
}

// makeIdentity zeroes the output projections of a block, so both residual
// branches add nothing: the block passes its input through unchanged.
func makeIdentity(b *vit.Block) {
	for _, p := range []*vit.Param{b.ProjW, b.ProjB, b.Fc2W, b.Fc2B} {
		clear(p.Data())
	}
}

// randomSplit draws n 8x8 images; every label is 0 until labelled.
func randomSplit(n int, seed uint64) *dataset.Split {
	return synth.NoiseSplit(n, 1, 8, 8, 1, rand.New(rand.NewPCG(seed, 3))) // one class: labels 0
}

var testNorm = dataset.Normalization{Mean: []float32{0.5}, Std: []float32{0.3}}

// labelWith makes the predictions of plan the split's labels, so plan scores 100%.
func labelWith(m *vit.Model, plan vit.Plan, s *dataset.Split) {
	x := make([]float32, s.N*s.ImageSize())
	idx := make([]int, s.N)
	for i := range idx {
		idx[i] = i
	}
	s.Fill(x, nil, idx, testNorm, nil, nil)
	logits := vit.NewRunner(m).Logits(x, s.N, plan)
	C := m.Config.Classes
	for i := 0; i < s.N; i++ {
		best := 0
		for c := 1; c < C; c++ {
			if logits[i*C+c] > logits[i*C+best] {
				best = c
			}
		}
		s.Labels[i] = uint8(best)
	}
}

func TestDataFreeStrategies(t *testing.T) {
	m := tinyModel(t, 6, 1)
	p := NewPruner(m, nil)
	cases := []struct {
		s       Strategy
		k       int
		removed []int
	}{
		{Last, 2, []int{4, 5}},
		{First, 2, []int{0, 1}},
		{First, 0, []int{}},
		{EveryOther, 3, []int{1, 3, 5}}, // k = n/2: every other block, the first kept
		{EveryOther, 2, []int{2, 5}},    // p = 1/3: 1-based depths 3 and 6
		{EveryOther, 1, []int{5}},
		{EveryOther, 5, []int{1, 2, 3, 4, 5}}, // only the first block stays
	}
	for _, c := range cases {
		r, err := p.Remove(c.s, c.k, 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.Removed, c.removed) {
			t.Errorf("%s k=%d removed %v, want %v", c.s, c.k, r.Removed, c.removed)
		}
		if len(r.Kept)+len(r.Removed) != 6 || len(p.Plan(r)) != 6-c.k {
			t.Errorf("%s k=%d: kept %v, removed %v", c.s, c.k, r.Kept, r.Removed)
		}
	}
	for _, k := range []int{-1, 6} {
		if _, err := p.Remove(Last, k, 0); err == nil {
			t.Errorf("removing %d of 6 blocks was accepted", k)
		}
	}
	if _, err := p.Remove(Greedy, 1, 0); err == nil {
		t.Error("greedy without validation data was accepted")
	}
}

func TestEveryOtherAlwaysDistinct(t *testing.T) {
	for n := 1; n <= 24; n++ {
		for k := 1; k < n; k++ {
			r := EveryOtherRemoved(n, k)
			if len(r) != k || r[k-1] != n-1 || r[0] < 0 {
				t.Fatalf("n=%d k=%d: %v", n, k, r)
			}
			for i := 1; i < k; i++ {
				if r[i] <= r[i-1] {
					t.Fatalf("n=%d k=%d: not increasing: %v", n, k, r)
				}
			}
		}
	}
}

func TestRandomIsSeeded(t *testing.T) {
	p := NewPruner(tinyModel(t, 8, 1), nil)
	a, _ := p.Remove(Random, 3, 42)
	b, _ := p.Remove(Random, 3, 42)
	if !slices.Equal(a.Removed, b.Removed) {
		t.Errorf("same seed, different blocks: %v vs %v", a.Removed, b.Removed)
	}
	seen := map[string]bool{}
	for seed := uint64(0); seed < 20; seed++ {
		r, _ := p.Remove(Random, 3, seed)
		if len(r.Removed) != 3 || r.Removed[0] == r.Removed[1] || r.Removed[1] == r.Removed[2] {
			t.Fatalf("seed %d: %v", seed, r.Removed)
		}
		seen[string(rune(r.Removed[0]))+string(rune(r.Removed[1]))+string(rune(r.Removed[2]))] = true
	}
	if len(seen) < 5 {
		t.Errorf("20 seeds gave only %d different removals", len(seen))
	}
}

// An identity block has influence 0 and goes first; influence equals a
// direct computation for the others.
func TestInfluenceRemovesIdentityFirst(t *testing.T) {
	m := tinyModel(t, 4, 2)
	makeIdentity(m.Blocks[2])
	split := randomSplit(300, 1) // more than one evaluation batch
	p := NewPruner(m, trainer.NewEvaluator(m, split, testNorm))
	r, err := p.Remove(Influence, 1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Removed, []int{2}) || math.Abs(r.Scores[2]) > 1e-12 {
		t.Fatalf("removed %v with influences %v, want block 2 with influence 0", r.Removed, r.Scores)
	}
	for i, s := range r.Scores {
		if i != 2 && s < 1e-3 {
			t.Errorf("block %d changes its input but has influence %g", i, s)
		}
	}
	// Block 0's influence computed directly, one image at a time.
	T, D := m.Config.Tokens(), m.Config.Dim
	runner := vit.NewRunner(m)
	x := make([]float32, split.ImageSize())
	in, out := make([]float32, T*D), make([]float32, T*D)
	var sum float64
	for i := 0; i < split.N; i++ {
		split.Fill(x, nil, []int{i}, testNorm, nil, nil)
		runner.Embed(in, x, 1)
		runner.RunBlock(out, in, 1, m.Blocks[0], 0)
		for tok := 0; tok < T; tok++ {
			sum += 1 - Cosine(in[tok*D:(tok+1)*D], out[tok*D:(tok+1)*D])
		}
	}
	if want := sum / float64(split.N*T); math.Abs(r.Scores[0]-want) > 1e-9 {
		t.Errorf("influence of block 0 is %v, direct computation %v", r.Scores[0], want)
	}
	r3, _ := p.Remove(Influence, 3, 0)
	if r3.Order[0] != 2 || !slices.Contains(r3.Removed, 2) {
		t.Errorf("removing 3: order %v", r3.Order)
	}
}

// Two consecutive identity blocks are the run angular pruning cuts.
func TestAngularCutsIdentityRun(t *testing.T) {
	m := tinyModel(t, 5, 3)
	makeIdentity(m.Blocks[2])
	makeIdentity(m.Blocks[3])
	p := NewPruner(m, trainer.NewEvaluator(m, randomSplit(100, 2), testNorm))
	r, err := p.Remove(Angular, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Removed, []int{2, 3}) || len(r.Scores) != 4 || r.Scores[2] != 0 {
		t.Errorf("removed %v, run distances %v; want blocks 2,3 at distance 0", r.Removed, r.Scores)
	}
	for l, d := range r.Scores {
		if l != 2 && d < 1e-3 {
			t.Errorf("run at %d has distance %g", l, d)
		}
	}
	r1, _ := p.Remove(Angular, 1, 0)
	if !slices.Equal(r1.Removed, []int{2}) {
		t.Errorf("k=1 removed %v, want the first identity block 2", r1.Removed)
	}
	r0, _ := p.Remove(Angular, 0, 0)
	if len(r0.Removed) != 0 || len(r0.Kept) != 5 {
		t.Errorf("k=0: %+v", r0)
	}
}

func TestAngularDistance(t *testing.T) {
	a, b, c := []float32{1, 0}, []float32{0, 3}, []float32{-2, 0}
	for _, tc := range []struct {
		x, y []float32
		want float64
	}{{a, a, 0}, {a, b, 0.5}, {a, c, 1}, {a, []float32{1, 1}, 0.25}} {
		if got := AngularDistance(tc.x, tc.y); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("angular distance %v %v = %v, want %v", tc.x, tc.y, got, tc.want)
		}
	}
}

// One harmful block among identity blocks: greedy removes it first, and
// the pruned plan is perfect again.
func TestGreedyRemovesHarmfulBlock(t *testing.T) {
	m := tinyModel(t, 4, 4)
	for _, i := range []int{0, 2, 3} {
		makeIdentity(m.Blocks[i])
	}
	split := randomSplit(400, 5)
	labelWith(m, vit.Plan{}, split) // the blocks-free model is right by construction
	bias := m.Blocks[1].Fc2B.Data()
	rng := rand.New(rand.NewPCG(9, 9))
	for i := range bias {
		bias[i] = float32(20 * rng.NormFloat64())
	}
	ev := trainer.NewEvaluator(m, split, testNorm)
	if acc, _ := ev.Accuracy(m.Sequential()); acc > 0.8 {
		t.Fatalf("the harmful block leaves accuracy %v; the test needs it to hurt", acc)
	}
	p := NewPruner(m, ev)
	r, err := p.Remove(Greedy, 2, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.Order[0] != 1 || r.Scores[0] != 1 || r.Scores[1] != 1 {
		t.Errorf("greedy order %v, accuracies %v; want block 1 first and 100%% after", r.Order, r.Scores)
	}
	if acc, _ := ev.Accuracy(p.Plan(r)); acc != 1 {
		t.Errorf("pruned plan scores %v", acc)
	}
	r1, _ := p.Remove(Greedy, 1, 0) // nested: the first step of the same path
	if !slices.Equal(r1.Removed, []int{1}) {
		t.Errorf("k=1 removed %v", r1.Removed)
	}
}

func TestParseStrategies(t *testing.T) {
	all, err := ParseStrategies("all")
	if err != nil || len(all) != len(Strategies) {
		t.Fatalf("all: %v %v", all, err)
	}
	got, err := ParseStrategies("last, greedy")
	if err != nil || !slices.Equal(got, []Strategy{Last, Greedy}) {
		t.Errorf("got %v %v", got, err)
	}
	for _, bad := range []string{"", "last,last", "sideways", "last,,first"} {
		if _, err := ParseStrategies(bad); err == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
}

func FuzzParseStrategies(f *testing.F) {
	for _, s := range []string{"all", "last", "last,first", "greedy,influence,angular", "x,", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseStrategies(s)
		if err != nil {
			return
		}
		seen := map[Strategy]bool{}
		for _, st := range got {
			if _, err := ParseStrategy(string(st)); err != nil || seen[st] {
				t.Fatalf("%q parsed to %v", s, got)
			}
			seen[st] = true
		}
	})
}
