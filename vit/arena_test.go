package vit

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestArenaStepEqualsFreshBuffers runs training steps whose buffers come
// from an arena filled with NaN by the previous step: every loss and
// gradient must equal, bit for bit, a step on freshly allocated buffers, so
// no operator reads memory it did not write.
func TestArenaStepEqualsFreshBuffers(t *testing.T) {
	const B = 6
	for _, v := range Variants {
		for _, perSample := range []bool{false, true} {
			c := tinyConfig(v)
			m := randomModel(t, "m", c, 11)
			x, labels := randomImages(c, B, 12), randomLabels(c, B, 13)
			plans := shuffledPlans(t, m, B, perSample, rand.New(rand.NewPCG(14, 15)))
			step := func(ar *Arena) (float32, [][]float32) {
				for _, p := range m.Params() {
					p.ZeroGrad()
				}
				st, err := m.ForwardShard(x, labels, B, B, plans, 0.5, ar)
				if err != nil {
					t.Fatal(err)
				}
				if err := st.Backward(); err != nil {
					t.Fatal(err)
				}
				return f32(st.loss)[0], snapshotGrads(m)
			}
			wantLoss, want := step(nil)
			ar := new(Arena)
			step(ar)
			for _, s := range ar.slabs {
				for i := range s {
					s[i] = float32(math.NaN())
				}
			}
			for _, list := range ar.free {
				for _, s := range list {
					for i := range s {
						s[i] = float32(math.NaN())
					}
				}
			}
			gotLoss, got := step(ar)
			if gotLoss != wantLoss {
				t.Fatalf("%s per-sample=%v: loss %v with a reused arena, %v with fresh buffers", v, perSample, gotLoss, wantLoss)
			}
			for i, p := range m.Params() {
				for j := range want[i] {
					if got[i][j] != want[i][j] {
						t.Fatalf("%s per-sample=%v: %s[%d] is %v with a reused arena, %v with fresh buffers",
							v, perSample, p.Name, j, got[i][j], want[i][j])
					}
				}
			}
			if len(ar.free) == 0 {
				t.Errorf("%s: no backward temporary went back to the arena", v)
			}
		}
	}
}

// TestArenaTakeAndReset: buffers do not overlap within a step, and after
// Reset the same sequence of Takes gets the same memory (no new slab).
func TestArenaTakeAndReset(t *testing.T) {
	ar := new(Arena)
	a, b := ar.Take(minSlab-10), ar.Take(20) // the second does not fit the first slab
	a[len(a)-1], b[0] = 1, 2
	if a[len(a)-1] != 1 || len(ar.slabs) != 2 {
		t.Fatalf("overlapping buffers or wrong slab count %d", len(ar.slabs))
	}
	if cap(a) != len(a) {
		t.Fatal("a buffer's capacity reaches into the next one")
	}
	ar.Reset()
	a2, b2 := ar.Take(minSlab-10), ar.Take(20)
	if &a2[0] != &a[0] || &b2[0] != &b[0] || len(ar.slabs) != 2 {
		t.Fatalf("after Reset the same Takes got other memory (%d slabs)", len(ar.slabs))
	}
	z := ar.Zeros(5)
	for _, v := range z {
		if v != 0 {
			t.Fatal("Zeros returned non-zero values")
		}
	}
}

// TestArenaScratch: recycled buffers come back zeroed, only for their own
// length, and two outstanding buffers never share memory.
func TestArenaScratch(t *testing.T) {
	ar := new(Arena)
	a, b := ar.Scratch(100), ar.Scratch(100)
	if &a[0] == &b[0] {
		t.Fatal("two outstanding scratch buffers share memory")
	}
	for i := range a {
		a[i], b[i] = 1, 2
	}
	ar.Recycle(a, b)
	c := ar.Scratch(100)
	if &c[0] != &a[0] && &c[0] != &b[0] {
		t.Error("a recycled buffer was not reused")
	}
	for _, v := range c {
		if v != 0 {
			t.Fatal("a recycled buffer came back dirty")
		}
	}
	if d := ar.Scratch(50); len(d) != 50 || &d[0] == &b[0] || &d[0] == &a[0] {
		t.Error("a buffer of another length was handed out")
	}
	if ar.Elements() != 100 {
		t.Errorf("Elements %d, want the one recycled buffer of 100", ar.Elements())
	}
	var none *Arena
	none.Recycle(none.Scratch(3))
}
