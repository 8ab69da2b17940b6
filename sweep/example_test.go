package sweep_test

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/sweep"
	"github.com/frankenvit/frankenvit/vit"
)

// Shard 1 of 3 runs units 1, 4, 7, ...
func ExampleParseShard() {
	sh, _ := sweep.ParseShard("1/3")
	for u := 0; u < 8; u++ {
		if sh.Has(u) {
			fmt.Print(u, " ")
		}
	}
	fmt.Println()
	// Output: 1 4 7
}

// A depth sweep's samples summarised: one row per strategy and number of
// blocks removed, the mean accuracy and its 95% interval (clipped to [0, 1]).
func ExampleSummarize() {
	doc := &sweep.Document{Sweep: sweep.Depth, Options: sweep.Options{Names: []string{"m"}, Split: "test", Seeds: 2}}
	add := func(kind string, removed int, acc float64, plan ...int) {
		doc.Samples = append(doc.Samples, sweep.Sample{Group: "m", Model: "m", Variant: "shuffle", Kind: kind,
			Removed: removed, Plan: plan, Acc: acc})
	}
	add("last", 0, 0.96, 0, 1, 2)
	add("last", 1, 0.80, 0, 1)
	add("random", 1, 0.70, 1, 2)
	add("random", 1, 0.90, 0, 2)
	for _, r := range sweep.Summarize(doc, false) {
		fmt.Printf("%s, %d removed (%d blocks): %.2f in [%.2f, %.2f] over %d\n", r.Kind, r.Removed, r.Blocks, r.Mean, r.Low,
			r.High, r.N)
	}
	// Output:
	// last, 0 removed (3 blocks): 0.96 in [0.96, 0.96] over 1
	// last, 1 removed (2 blocks): 0.80 in [0.80, 0.80] over 1
	// random, 1 removed (2 blocks): 0.80 in [0.00, 1.00] over 2
}

// A sweep split into shards, each run on its own (on another machine, say),
// merges into the document of the whole sweep, byte for byte.
func ExampleMergeShards() {
	cfg := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 8, Heads: 2, MLP: 16, Depth: 3,
		Classes: 2, Variant: vit.Shuffle}
	m, _ := vit.NewModel("m", cfg)
	m.Init(1)
	split := &dataset.Split{Pixels: make([]uint8, 16*64), Labels: make([]uint8, 16), N: 16, C: 1, H: 8, W: 8}
	for i := range split.Pixels {
		split.Pixels[i] = uint8(i * 37)
	}
	for i := range split.Labels {
		split.Labels[i] = uint8(i % 2)
	}
	norm := dataset.Normalization{Mean: []float32{0.5}, Std: []float32{0.3}}
	subjects := []sweep.Subject{{Group: "m", Name: "m", Variant: "shuffle", Depth: 3, Load: func() (*sweep.Loaded, error) {
		return &sweep.Loaded{Model: m, Test: split, Norm: norm}, nil
	}}}
	opt := sweep.Options{Names: []string{"m"}, Split: "test", Seed: 1, Seeds: 2, Strategies: []string{"last", "random"}}

	whole, _ := sweep.Run(sweep.Depth, subjects, nil, opt, nil, nil)
	var shards []*sweep.Document
	for i := range 2 {
		sh := sweep.Shard{Index: i, Count: 2}
		d, _ := sweep.Run(sweep.Depth, subjects, nil, opt, &sh, nil)
		fmt.Printf("shard %d/%d: %d of %d units, %d samples\n", i, sh.Count, countUnits(d), d.Units, len(d.Samples))
		shards = append(shards, d)
	}
	merged, err := sweep.MergeShards(shards, []string{"shard0.json", "shard1.json"})
	if err != nil {
		fmt.Println(err)
		return
	}
	whole.Summary = sweep.Summarize(whole, false)
	merged.Summary = sweep.Summarize(merged, false)
	a, _ := json.Marshal(whole)
	b, _ := json.Marshal(merged)
	fmt.Println("merged shards == whole sweep:", bytes.Equal(a, b))

	for _, r := range merged.Summary {
		fmt.Printf("%s, %d removed: %d samples\n", r.Kind, r.Removed, r.N)
	}
	_, err = sweep.MergeShards(shards[:1], []string{"shard0.json"})
	fmt.Println(err)
	// Output:
	// shard 0/2: 1 of 2 units, 3 samples
	// shard 1/2: 1 of 2 units, 5 samples
	// merged shards == whole sweep: true
	// last, 0 removed: 1 samples
	// last, 1 removed: 1 samples
	// last, 2 removed: 1 samples
	// random, 0 removed: 1 samples
	// random, 1 removed: 2 samples
	// random, 2 removed: 2 samples
	// shards 1/2 are missing
}

func countUnits(d *sweep.Document) int {
	units := map[int]bool{}
	for _, s := range d.Samples {
		units[s.Unit] = true
	}
	return len(units)
}
