package prune_test

import (
	"fmt"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/prune"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// LayerDrop's every-other rule on a 6-block model.
func ExampleEveryOtherRemoved() {
	for k := 1; k <= 3; k++ {
		fmt.Println(k, prune.EveryOtherRemoved(6, k))
	}
	// Output:
	// 1 [5]
	// 2 [2 5]
	// 3 [1 3 5]
}

// ShortGPT removes the blocks of lowest influence first.
func ExampleInfluenceOrder() {
	fmt.Println(prune.InfluenceOrder([]float64{0.4, 0.05, 0.2, 0.05}))
	// Output: [1 3 2 0]
}

// Strategies as --strategy takes them; "all" is every one.
func ExampleParseStrategies() {
	ss, _ := prune.ParseStrategies("last,influence")
	for _, s := range ss {
		fmt.Println(s, "needs data:", s.NeedsData(), "seeded:", s.Seeded())
	}
	all, _ := prune.ParseStrategies("all")
	fmt.Println(all)
	_, err := prune.ParseStrategies("last,last")
	fmt.Println(err)
	// Output:
	// last needs data: false seeded: false
	// influence needs data: true seeded: false
	// [last first random every-other greedy influence angular]
	// pruning strategy "last" is listed twice in "last,last"
}

// Pruning is choosing a shorter plan: the kept blocks in their order, on
// the same stem and head. The data-free strategies need no evaluator.
func ExamplePruner_Remove() {
	m, _ := vit.NewModel("m", vit.DefaultConfig()) // 6 blocks
	p := prune.NewPruner(m, nil)
	for _, s := range []prune.Strategy{prune.Last, prune.First, prune.EveryOther} {
		r, _ := p.Remove(s, 2, 0)
		fmt.Printf("%s: removed %v, plan %s\n", s, r.Removed, p.Plan(r))
	}
	_, err := p.Remove(prune.Last, 6, 0)
	fmt.Println(err)
	// Output:
	// last: removed [4 5], plan m[0] m[1] m[2] m[3]
	// first: removed [0 1], plan m[2] m[3] m[4] m[5]
	// every-other: removed [2 5], plan m[0] m[1] m[3] m[4]
	// cannot remove 6 of 6 blocks: remove 0..5 so that one block stays
}

// ShortGPT's influence on validation data: blocks that compute the identity
// (here made so by zeroing what they add to the residual stream) change
// nothing, score 0 and go first.
func ExamplePruner_Remove_influence() {
	cfg := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 8, Heads: 2, MLP: 16, Depth: 4,
		Classes: 2, Variant: vit.Baseline}
	m, _ := vit.NewModel("m", cfg)
	m.Init(1)
	for _, i := range []int{1, 3} {
		bl := m.Blocks[i]
		for _, w := range []*vit.Param{bl.ProjW, bl.ProjB, bl.Fc2W, bl.Fc2B} {
			clear(w.Data())
		}
	}
	val := &dataset.Split{Pixels: make([]uint8, 8*64), Labels: make([]uint8, 8), N: 8, C: 1, H: 8, W: 8}
	for i := range val.Pixels {
		val.Pixels[i] = uint8(i * 37)
	}
	norm := dataset.Normalization{Mean: []float32{0.5}, Std: []float32{0.3}}
	p := prune.NewPruner(m, trainer.NewEvaluator(m, val, norm))
	r, err := p.Remove(prune.Influence, 2, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("removed %v (influence %.2f and %.2f), plan %s\n", r.Removed, r.Scores[1], r.Scores[3], p.Plan(r))
	// Output:
	// removed [1 3] (influence 0.00 and 0.00), plan m[0] m[2]
}
