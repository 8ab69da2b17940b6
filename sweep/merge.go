package sweep

import (
	"fmt"
	"io"
	"math/rand/v2"
	"sort"

	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

const streamMerge = 0x3e76 << 16

// runMerge draws opt.Draws random Frankenstein models, each from n sources
// picked at random among the population's members: slot i takes block i
// (any block, with AnyBlock) of a source drawn uniformly from the n, and
// the stem and head come from one of them (merge.Random, the paper's
// recipe). Models that share a stem and head are evaluated in one
// prefix-sharing pass.
func runMerge(pool []*Loaded, n int, opt Options, log io.Writer) ([]Sample, error) {
	out := make([]Sample, opt.Draws)
	byStem := map[int][]int{} // pool index of the stem model -> draws
	plans := make([]vit.Plan, opt.Draws)
	for j := 0; j < opt.Draws; j++ {
		rng := rand.New(rand.NewPCG(opt.Seed, streamMerge+uint64(n)<<8+uint64(j)))
		pick := rng.Perm(len(pool))[:n]
		sort.Ints(pick)
		var models []*vit.Model
		for _, i := range pick {
			models = append(models, pool[i].Model)
		}
		p, err := merge.NewPool(models...)
		if err != nil {
			return nil, err
		}
		splices, err := merge.Random(p, merge.RandomOptions{Count: 1, AnyBlock: opt.AnyBlock, Seed: rng.Uint64()})
		if err != nil {
			return nil, err
		}
		sp := splices[0]
		m, err := sp.Build(fmt.Sprintf("draw-%d", j), p)
		if err != nil {
			return nil, err
		}
		stem := -1
		for i, ld := range pool {
			if ld.Model.Name == sp.Stem {
				stem = i
			}
		}
		byStem[stem] = append(byStem[stem], j)
		plans[j] = m.Blocks
		out[j] = Sample{Kind: "random-merge", Sources: n, Seed: uint64(j), Model: sp.Stem, Splice: sp.String()}
	}
	stems := make([]int, 0, len(byStem))
	for s := range byStem {
		stems = append(stems, s)
	}
	sort.Ints(stems)
	for _, s := range stems {
		ld := pool[s]
		batch := make([]vit.Plan, len(byStem[s]))
		for i, j := range byStem[s] {
			batch[i] = plans[j]
		}
		ev := trainer.NewEvaluator(ld.Model, ld.Test, ld.Norm)
		ev.OnProgress = batchCounter(log, fmt.Sprintf("%d Frankenstein models of %d sources on the stem of %s", len(batch), n, ld.Model.Name))
		acc, loss := ev.AccuracyOfPlans(batch)
		for i, j := range byStem[s] {
			out[j].Acc, out[j].Loss = acc[i], loss[i]
		}
	}
	return out, nil
}
