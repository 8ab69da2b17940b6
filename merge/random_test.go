package merge

import (
	"reflect"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/vit"
)

func TestRandomTakesEachSlotFromItsPosition(t *testing.T) {
	p := tinyPool(t, "a", "b", "c", "d")
	got, err := Random(p, RandomOptions{Count: 50, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	sources := map[string]bool{}
	for _, s := range got {
		if s.Stem != s.Head || p.Get(s.Stem) == nil {
			t.Fatalf("stem %s and head %s should be one source model", s.Stem, s.Head)
		}
		if len(s.Blocks) != 3 {
			t.Fatalf("plan %s has %d slots, want the sources' depth 3", s, len(s.Blocks))
		}
		for slot, r := range s.Blocks {
			if r.Index != slot {
				t.Fatalf("slot %d took block %s: without --any-block it must be block %d", slot, r, slot)
			}
			sources[r.Model] = true
		}
	}
	if len(sources) != 4 {
		t.Errorf("50 draws used the sources %v, want all 4", sources)
	}
}

func TestRandomSeeds(t *testing.T) {
	p := tinyPool(t, "a", "b", "c")
	draw := func(seed uint64, n int, anyBlock bool) []Splice {
		s, err := Random(p, RandomOptions{Count: n, Seed: seed, AnyBlock: anyBlock})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if !reflect.DeepEqual(draw(3, 10, false), draw(3, 10, false)) {
		t.Error("the same seed drew different models")
	}
	if reflect.DeepEqual(draw(3, 10, false), draw(4, 10, false)) {
		t.Error("seeds 3 and 4 drew the same 10 models")
	}
	if !reflect.DeepEqual(draw(3, 4, false), draw(3, 10, false)[:4]) {
		t.Error("the first 4 of 10 draws differ from 4 draws with the same seed")
	}
	moved := false
	for _, s := range draw(5, 20, true) {
		for slot, r := range s.Blocks {
			moved = moved || r.Index != slot
		}
	}
	if !moved {
		t.Error("--any-block never took a block from another position in 20 models")
	}
}

func TestRandomFixedStemAndErrors(t *testing.T) {
	p := tinyPool(t, "a", "b")
	got, err := Random(p, RandomOptions{Count: 5, Stem: "b", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range got {
		if s.Stem != "b" || s.Head != "b" {
			t.Errorf("--stem b gave stem %s head %s", s.Stem, s.Head)
		}
	}
	for _, tc := range []struct {
		opt  RandomOptions
		want string
	}{
		{RandomOptions{Count: 0}, "--count"},
		{RandomOptions{Count: MaxCount + 1}, "--count must be from 1 to 10000, got 10001"},
		{RandomOptions{Count: 1, Stem: "zz"}, "--stem"},
	} {
		if _, err := Random(p, tc.opt); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: error %v, want one naming %s", tc.opt, err, tc.want)
		}
	}
	empty, _ := NewPool()
	if _, err := Random(empty, RandomOptions{Count: 1}); err == nil {
		t.Error("no sources should be an error")
	}
}

// A splice shares the donors' blocks, and a model spliced from identical
// copies computes what the original computes.
func TestBuildSharesBlocks(t *testing.T) {
	c := tinyConfig(vit.Shuffle)
	a := tinyModel(t, "a", c, 1)
	b := tinyModel(t, "b", c, 1) // the same weights as a
	other := tinyModel(t, "c", c, 2)
	p, _ := NewPool(a, b, other)
	s := Splice{Stem: "a", Head: "b", Blocks: []Ref{{"b", 0}, {"a", 1}, {"b", 2}}}
	m, err := s.Build("f", p)
	if err != nil {
		t.Fatal(err)
	}
	if m.Blocks[0] != b.Blocks[0] || m.Blocks[1] != a.Blocks[1] || m.Stem != a.Stem || m.Head != b.Head {
		t.Error("Build copied parts instead of sharing the donors'")
	}
	x := testImages(c, 3)
	if d := maxAbsDiff(logits(m, x, 3), logits(a, x, 3)); d != 0 {
		t.Errorf("a splice of identical copies differs from the model by %g", d)
	}
	s.Blocks[1] = Ref{"c", 1}
	m2, _ := s.Build("g", p)
	if d := maxAbsDiff(logits(m2, x, 3), logits(a, x, 3)); d == 0 {
		t.Error("a block of another model changed nothing: the plan is not what runs")
	}
}

func TestCheckReportsEveryProblem(t *testing.T) {
	wide := tinyConfig(vit.Shuffle)
	wide.Dim, wide.Heads = 32, 4
	pos := tinyConfig(vit.ShufflePosition)
	ms := []*vit.Model{tinyModel(t, "a", tinyConfig(vit.Shuffle), 1), tinyModel(t, "w", wide, 2), tinyModel(t, "p", pos, 3)}
	p, _ := NewPool(ms...)
	s := Splice{Stem: "a", Head: "w", Blocks: []Ref{{"a", 0}, {"nope", 1}, {"a", 9}, {"w", 1}, {"p", 0}}}
	err := s.Check(p)
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"head: model w has width 32", `slot 1 (nope[1]): unknown model "nope"`,
		"slot 2 (a[9]): block 9 is out of range: model a has blocks 0..2", "slot 3 (w[1]): block w[1] has width 32",
		"4 heads", "slot 4 (p[0]): block p[0] has a slot projection, but the stem's model a has no slot embedding"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
	if err := (Splice{Stem: "a", Head: "a"}).Check(p); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Errorf("an empty plan: %v", err)
	}
	// Slot projections need a slot embedding row for their slot.
	long := Splice{Stem: "p", Head: "p", Blocks: []Ref{{"p", 0}, {"p", 1}, {"p", 2}, {"p", 0}}}
	if err := long.Check(p); err == nil || !strings.Contains(err.Error(), "slot embeddings for 3 slots only") {
		t.Errorf("a 4-slot plan of slot-projection blocks on a 3-slot stem: %v", err)
	}
}
