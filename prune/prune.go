package prune

import (
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// Result is one pruning decision. Positions index the model's plan
// (m.Blocks), not the blocks' source indices.
type Result struct {
	Strategy Strategy `json:"strategy"`
	Remove   int      `json:"remove"`
	Seed     uint64   `json:"seed,omitempty"`
	Kept     []int    `json:"kept"`    // positions kept, in execution order
	Removed  []int    `json:"removed"` // positions removed, ascending
	// Scores is what the strategy measured: influence, one value per
	// position; angular, the distance of each run of Remove blocks by its
	// first position; greedy, the validation accuracy after each removal;
	// nil for the others.
	Scores []float64 `json:"scores,omitempty"`
	// Order is the order in which greedy and influence removed the blocks.
	Order []int `json:"order,omitempty"`
}

// Pruner chooses blocks to remove from Model's plan. The data-driven
// strategies measure on Val's split (validation data) and keep what they
// measured, so asking for every K costs one measurement.
type Pruner struct {
	Model *vit.Model
	Val   *trainer.Evaluator // needed by greedy, influence and angular
	Log   io.Writer          // progress of the measurements; nil for none

	sims        *Similarity
	greedyOrder []int
	greedyAcc   []float64
}

// NewPruner prepares pruning of m; val may be nil when only data-free
// strategies are used.
func NewPruner(m *vit.Model, val *trainer.Evaluator) *Pruner { return &Pruner{Model: m, Val: val} }

// Remove chooses k blocks to remove with strategy s; seed is used by random.
// k must be in 0..n-1 for a plan of n blocks: at least one block stays.
func (p *Pruner) Remove(s Strategy, k int, seed uint64) (Result, error) {
	n := len(p.Model.Blocks)
	if k < 0 || k >= n {
		return Result{}, fmt.Errorf("cannot remove %d of %d blocks: remove 0..%d so that one block stays", k, n, n-1)
	}
	if s.NeedsData() && p.Val == nil {
		return Result{}, fmt.Errorf("pruning strategy %s needs validation data", s)
	}
	res := Result{Strategy: s, Remove: k}
	switch s {
	case Last:
		res.Removed = span(n-k, n)
	case First:
		res.Removed = span(0, k)
	case Random:
		res.Seed = seed
		rng := rand.New(rand.NewPCG(seed, 0x9e11))
		res.Removed = rng.Perm(n)[:k]
	case EveryOther:
		res.Removed = EveryOtherRemoved(n, k)
	case Greedy:
		p.extendGreedy(k)
		res.Order = slices.Clone(p.greedyOrder[:k])
		res.Scores = slices.Clone(p.greedyAcc[:k])
		res.Removed = slices.Clone(res.Order)
	case Influence:
		sims, err := p.similarity()
		if err != nil {
			return Result{}, err
		}
		res.Scores = slices.Clone(sims.Influence)
		res.Order = InfluenceOrder(sims.Influence)
		res.Removed = slices.Clone(res.Order[:k])
	case Angular:
		sims, err := p.similarity()
		if err != nil {
			return Result{}, err
		}
		if k > 0 {
			start, dists := sims.BestRun(k)
			res.Scores = dists
			res.Removed = span(start, start+k)
		}
	default:
		return Result{}, fmt.Errorf("unknown pruning strategy %q", s)
	}
	sort.Ints(res.Removed)
	if res.Removed == nil {
		res.Removed = []int{}
	}
	res.Kept = Complement(n, res.Removed)
	return res, nil
}

// Plan is the model's plan without the removed positions.
func (p *Pruner) Plan(r Result) vit.Plan {
	plan := make(vit.Plan, len(r.Kept))
	for i, k := range r.Kept {
		plan[i] = p.Model.Blocks[k]
	}
	return plan
}

// EveryOtherRemoved is LayerDrop's every-other rule for removing k of n
// blocks: with p = k/n, drop the blocks at 1-based depth ⌈i·n/k⌉, i = 1..k
// (at k = n/2 every other block, the first one kept).
func EveryOtherRemoved(n, k int) []int {
	out := make([]int, 0, k)
	for i := 1; i <= k; i++ {
		out = append(out, (i*n+k-1)/k-1)
	}
	return out
}

// InfluenceOrder sorts positions by ascending influence (earlier position
// first among equals): the order in which ShortGPT removes blocks.
func InfluenceOrder(influence []float64) []int {
	order := span(0, len(influence))
	sort.SliceStable(order, func(a, b int) bool { return influence[order[a]] < influence[order[b]] })
	return order
}

// Complement lists 0..n-1 without the removed positions.
func Complement(n int, removed []int) []int {
	gone := make([]bool, n)
	for _, r := range removed {
		gone[r] = true
	}
	kept := []int{}
	for i := 0; i < n; i++ {
		if !gone[i] {
			kept = append(kept, i)
		}
	}
	return kept
}

func span(from, to int) []int {
	out := make([]int, 0, max(to-from, 0))
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func (p *Pruner) similarity() (*Similarity, error) {
	if p.sims == nil {
		s, err := MeasureSimilarity(p.Model, p.Model.Blocks, p.Val.Split, p.Val.Norm, p.Log)
		if err != nil {
			return nil, err
		}
		p.sims = s
	}
	return p.sims, nil
}

// extendGreedy continues the greedy removal path until it has k steps. Each
// step evaluates every remaining candidate in one prefix-sharing pass.
func (p *Pruner) extendGreedy(k int) {
	n := len(p.Model.Blocks)
	for len(p.greedyOrder) < k {
		kept := Complement(n, p.greedyOrder)
		plans := make([]vit.Plan, len(kept))
		for c := range kept {
			plan := vit.Plan{}
			for j, pos := range kept {
				if j != c {
					plan = append(plan, p.Model.Blocks[pos])
				}
			}
			plans[c] = plan
		}
		tick := trainer.NewCounter(p.Log, fmt.Sprintf("greedy pruning of %s: removal %d, %d candidates (batches)",
			p.Model.Name, len(p.greedyOrder)+1, len(kept)), trainer.EvalBatches(p.Val.Split.N, p.Model.Config))
		p.Val.OnProgress = func(done, total int) { tick(done) }
		acc, loss := p.Val.AccuracyOfPlans(plans)
		p.Val.OnProgress = nil
		best := 0
		for c := range kept {
			if acc[c] > acc[best] || acc[c] == acc[best] && loss[c] < loss[best] {
				best = c
			}
		}
		p.greedyOrder = append(p.greedyOrder, kept[best])
		p.greedyAcc = append(p.greedyAcc, acc[best])
	}
}
