package vit

import (
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
)

// TestShardsAddUpToTheBatch differentiates a batch whole, then as two shards
// (the first on the model, the second on a gradient shadow, at the same
// time): the losses and, after AddGradsInto, every gradient must agree.
func TestShardsAddUpToTheBatch(t *testing.T) {
	const B, split = 10, 4
	for _, v := range Variants {
		for _, perSample := range []bool{false, true} {
			c := tinyConfig(v)
			m := randomModel(t, "m", c, 3)
			x, labels := randomImages(c, B, 4), randomLabels(c, B, 5)
			plans := shuffledPlans(t, m, B, perSample, rand.New(rand.NewPCG(6, 7)))
			whole, err := m.Forward(x, labels, B, plans, 0.7)
			if err != nil {
				t.Fatal(err)
			}
			if err := whole.Backward(); err != nil {
				t.Fatal(err)
			}
			want := snapshotGrads(m)
			for _, p := range m.Params() {
				p.ZeroGrad()
			}

			shadow := m.GradShadow()
			first, second := plans, plans
			if perSample {
				first, second = plans[:split], plans[split:]
			}
			var mapped []Plan
			for _, p := range second {
				q, ok := m.ShadowPlan(p, shadow)
				if !ok {
					t.Fatal("ShadowPlan refused the model's own blocks")
				}
				mapped = append(mapped, q)
			}
			size := c.ImageSize()
			done := make(chan float64)
			go func() {
				st, err := shadow.ForwardShard(x[split*size:], labels[split:], B-split, B, mapped, 0.7, new(Arena))
				if err != nil {
					t.Error(err)
					done <- 0
					return
				}
				if err := st.Backward(); err != nil {
					t.Error(err)
				}
				done <- float64(st.ClassLoss() + st.SlotLoss()*0.7)
			}()
			st, err := m.ForwardShard(x[:split*size], labels[:split], split, B, first, 0.7, new(Arena))
			if err != nil {
				t.Fatal(err)
			}
			if err := st.Backward(); err != nil {
				t.Fatal(err)
			}
			loss := float64(st.ClassLoss()+st.SlotLoss()*0.7) + <-done
			shadow.AddGradsInto(m)
			if wl := float64(whole.ClassLoss() + whole.SlotLoss()*0.7); math.Abs(loss-wl) > 1e-5*math.Max(1, wl) {
				t.Errorf("%s per-sample=%v: shard losses add to %v, the batch's is %v", v, perSample, loss, wl)
			}
			got := snapshotGrads(m)
			for i, p := range m.Params() {
				for j := range want[i] {
					if d := math.Abs(float64(got[i][j] - want[i][j])); d > 1e-5+1e-4*math.Abs(float64(want[i][j])) {
						t.Fatalf("%s per-sample=%v: %s[%d] shards %v, batch %v", v, perSample, p.Name, j, got[i][j], want[i][j])
					}
				}
			}
			for _, p := range shadow.Params() {
				for _, g := range p.Grad {
					if g != 0 {
						t.Fatalf("%s: the shadow's gradient of %s was not cleared", v, p.Name)
					}
				}
			}
		}
	}
}

// TestGradShadowSharesWeights: an update of the model is seen by its shadow.
func TestGradShadowSharesWeights(t *testing.T) {
	m := randomModel(t, "m", tinyConfig(Shuffle), 1)
	s := m.GradShadow()
	m.Blocks[1].QkvW.Data()[3] = 42
	if s.Blocks[1].QkvW.Data()[3] != 42 {
		t.Fatal("the shadow does not share the model's weights")
	}
	other := randomModel(t, "o", tinyConfig(Shuffle), 2)
	if _, ok := m.ShadowPlan(Plan{other.Blocks[0]}, s); ok {
		t.Fatal("ShadowPlan accepted another model's block")
	}
}

func snapshotGrads(m *Model) [][]float32 {
	var out [][]float32
	for _, p := range m.Params() {
		out = append(out, append([]float32(nil), p.Grad...))
	}
	return out
}

// TestShardWorkersKeepBits: a shard's gradients do not depend on how many
// cores its kernel calls get. The training step gives a shard left running
// alone every core (Arena.Running); on a model of the default size, whose
// kernels do split, one core and all of them must give the same bits.
func TestShardWorkersKeepBits(t *testing.T) {
	const B = 24
	c := Config{ImageHeight: 28, ImageWidth: 28, Channels: 1, Patch: 7, Dim: 64, Heads: 4, MLP: 128, Depth: 2,
		Classes: 10, Variant: ShufflePredict, PosDim: 16}
	m := randomModel(t, "m", c, 3)
	x, labels := randomImages(c, B, 4), randomLabels(c, B, 5)
	plans := shuffledPlans(t, m, B, true, rand.New(rand.NewPCG(6, 7)))
	grads := func(ar *Arena) [][]float32 {
		for _, p := range m.Params() {
			p.ZeroGrad()
		}
		st, err := m.ForwardShard(x, labels, B, 2*B, plans, 0.7, ar)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Backward(); err != nil {
			t.Fatal(err)
		}
		return snapshotGrads(m)
	}
	want := grads(&Arena{Workers: 1})
	for _, procs := range []int{2, 3} {
		func() {
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			var alone atomic.Int32
			alone.Store(1)
			got := grads(&Arena{Workers: 1, Running: &alone})
			for i, p := range m.Params() {
				for j := range want[i] {
					if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
						t.Fatalf("procs %d: %s[%d] is %v on all cores, %v on one", procs, p.Name, j, got[i][j], want[i][j])
					}
				}
			}
		}()
	}
}
