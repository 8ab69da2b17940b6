package merge

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/vit"
)

// SearchOptions control Search.
type SearchOptions struct {
	// Stem names the model whose stem and head every plan runs on.
	Stem string `json:"stem"`
	// MinDepth and MaxDepth bound the number of slots (0: 1 and the stem
	// model's plan length).
	MinDepth int `json:"min_depth"`
	MaxDepth int `json:"max_depth"`
	// Population is the number of plans per generation of the evolution;
	// Generations how many generations it runs (0 skips the evolution).
	Population  int    `json:"population"`
	Generations int    `json:"generations"`
	Seed        uint64 `json:"seed"`
}

// PlanScorer scores plans on the stem model's stem and head, higher is
// better (validation accuracy). It gets many plans at once, so that it can
// share their common prefixes.
type PlanScorer func(plans []vit.Plan) []float64

// ScoredPlan is a plan and its score.
type ScoredPlan struct {
	Blocks []Ref   `json:"blocks"`
	Score  float64 `json:"score"`
}

// GenerationStats summarise one generation of the evolution.
type GenerationStats struct {
	Generation int     `json:"generation"`
	Best       float64 `json:"best"`
	Mean       float64 `json:"mean"`
	New        int     `json:"new"` // plans scored for the first time
}

// SearchResult is what Search found and how.
type SearchResult struct {
	Options SearchOptions `json:"options"`
	// Baseline is the stem model's own plan, the one to beat.
	Baseline ScoredPlan `json:"baseline"`
	// Greedy is the best plan of greedy forward selection within the depth
	// bounds; GreedyTrace the best score after adding each slot.
	Greedy      ScoredPlan        `json:"greedy"`
	GreedyTrace []float64         `json:"greedy_trace"`
	Generations []GenerationStats `json:"generations,omitempty"`
	// Best is the best plan scored by any stage.
	Best   ScoredPlan `json:"best"`
	Scored int        `json:"plans_scored"`
	// Test accuracies, measured only after the search (filled by the caller).
	BaselineTest float64 `json:"baseline_test,omitempty"`
	GreedyTest   float64 `json:"greedy_test,omitempty"`
	BestTest     float64 `json:"best_test,omitempty"`
}

// searcher holds the candidate blocks and the cache of scores.
type searcher struct {
	pool     *Pool
	stem     *vit.Model
	cands    []Ref
	blocks   []*vit.Block
	min, max int
	score    PlanScorer
	cache    map[string]float64
	rng      *rand.Rand
	progress func(stage string, done, total int)
}

// Search looks for the plan with the best score over every block of the
// pool on the stem model's stem and head: first greedy forward selection
// (each step appends the block that scores best), then an evolutionary
// search (tournament selection, one-point crossover, mutations that replace,
// swap, insert or delete a block, two elites kept) started from the greedy
// plan, every pool model's own plan and random plans. The depth stays within
// the bounds. The best plan scored by any stage is returned, so it scores at
// least as well as the stem model's own plan when that is within the bounds.
// progress, if not nil, is told the stage and its steps.
func Search(p *Pool, opt SearchOptions, score PlanScorer, progress func(stage string, done, total int)) (*SearchResult, error) {
	stem := p.Get(opt.Stem)
	if stem == nil {
		return nil, fmt.Errorf("--stem: model %q is not among the sources%s", opt.Stem, known(p))
	}
	if opt.MinDepth == 0 {
		opt.MinDepth = 1
	}
	if opt.MaxDepth == 0 {
		opt.MaxDepth = len(stem.Blocks)
	}
	var problems []string
	if opt.MinDepth < 1 || opt.MaxDepth < opt.MinDepth {
		problems = append(problems, fmt.Sprintf("--min-depth %d and --max-depth %d: want 1 <= min <= max", opt.MinDepth, opt.MaxDepth))
	}
	if opt.MaxDepth > 64 {
		problems = append(problems, fmt.Sprintf("--max-depth %d is more than 64 slots", opt.MaxDepth))
	}
	if opt.Population > MaxCount {
		problems = append(problems, fmt.Sprintf("--population %d is more than %d plans", opt.Population, MaxCount))
	}
	if opt.Generations < 0 || opt.Generations > 0 && opt.Population < 2 {
		problems = append(problems, fmt.Sprintf("--population %d and --generations %d: an evolution needs at least 2 plans and 0 or more generations", opt.Population, opt.Generations))
	}
	if len(problems) > 0 {
		return nil, &ProblemsError{Problems: problems}
	}
	if progress == nil {
		progress = func(string, int, int) {}
	}
	s := &searcher{pool: p, stem: stem, min: opt.MinDepth, max: opt.MaxDepth, score: score, cache: map[string]float64{},
		rng: rand.New(rand.NewPCG(opt.Seed, 0x5ea7c4)), progress: progress}
	for _, m := range p.Models {
		for i, b := range m.Blocks {
			// A block fits if it can run at every slot the search may use.
			if blockMisfit(b, 0, stem) == "" && blockMisfit(b, opt.MaxDepth-1, stem) == "" {
				s.cands = append(s.cands, Ref{Model: m.Name, Index: i})
				s.blocks = append(s.blocks, b)
			}
		}
	}
	if len(s.cands) == 0 {
		return nil, fmt.Errorf("no source block fits the stem of %s", stem.Name)
	}
	res := &SearchResult{Options: opt}
	// The plans every stage starts from: each model's own plan.
	var seeds [][]int
	for _, m := range p.Models {
		if plan, ok := s.indicesOf(Sequential(m).Blocks); ok && len(plan) >= s.min && len(plan) <= s.max {
			seeds = append(seeds, plan)
		}
	}
	s.eval(seeds)
	if own, ok := s.indicesOf(Sequential(stem).Blocks); ok {
		s.eval([][]int{own})
		res.Baseline = s.scored(own)
	}
	greedy := s.greedy(res)
	res.Greedy = s.scored(greedy)
	if opt.Generations > 0 {
		s.evolve(opt, append([][]int{greedy}, seeds...), res)
	}
	res.Best = s.best()
	res.Scored = len(s.cache)
	return res, nil
}

func key(plan []int) string {
	var b strings.Builder
	for i, k := range plan {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Itoa(k))
	}
	return b.String()
}

// indicesOf maps refs to candidate indices.
func (s *searcher) indicesOf(refs []Ref) ([]int, bool) {
	out := make([]int, len(refs))
	for i, r := range refs {
		k := slices.Index(s.cands, r)
		if k < 0 {
			return nil, false
		}
		out[i] = k
	}
	return out, true
}

func (s *searcher) refs(plan []int) []Ref {
	out := make([]Ref, len(plan))
	for i, k := range plan {
		out[i] = s.cands[k]
	}
	return out
}

func (s *searcher) scored(plan []int) ScoredPlan {
	return ScoredPlan{Blocks: s.refs(plan), Score: s.cache[key(plan)]}
}

// eval scores the plans not scored yet, all in one call; it returns how
// many were new.
func (s *searcher) eval(plans [][]int) int {
	var todo []vit.Plan
	var keys []string
	seen := map[string]bool{}
	for _, p := range plans {
		k := key(p)
		if _, ok := s.cache[k]; ok || seen[k] {
			continue
		}
		seen[k] = true
		vp := make(vit.Plan, len(p))
		for i, c := range p {
			vp[i] = s.blocks[c]
		}
		todo = append(todo, vp)
		keys = append(keys, k)
	}
	if len(todo) == 0 {
		return 0
	}
	scores := s.score(todo)
	for i, k := range keys {
		s.cache[k] = scores[i]
	}
	return len(todo)
}

// better orders plans: higher score, then fewer blocks, then key.
func (s *searcher) better(a, b []int) bool {
	sa, sb := s.cache[key(a)], s.cache[key(b)]
	if sa != sb {
		return sa > sb
	}
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return key(a) < key(b)
}

// best is the best plan scored so far within the depth bounds.
func (s *searcher) best() ScoredPlan {
	var best []int
	for k := range s.cache {
		plan := parseKey(k)
		if len(plan) < s.min || len(plan) > s.max {
			continue
		}
		if best == nil || s.better(plan, best) {
			best = plan
		}
	}
	return s.scored(best)
}

func parseKey(k string) []int {
	var out []int
	for _, f := range strings.Split(k, ",") {
		n, _ := strconv.Atoi(f)
		out = append(out, n)
	}
	return out
}

// greedy appends, slot by slot up to the maximum depth, the block that
// scores best, and returns the best prefix within the depth bounds.
func (s *searcher) greedy(res *SearchResult) []int {
	var cur, best []int
	for d := 1; d <= s.max; d++ {
		plans := make([][]int, len(s.cands))
		for c := range s.cands {
			plans[c] = append(slices.Clone(cur), c)
		}
		s.eval(plans)
		top := plans[0]
		for _, p := range plans[1:] {
			if s.cache[key(p)] > s.cache[key(top)] {
				top = p
			}
		}
		cur = top
		res.GreedyTrace = append(res.GreedyTrace, s.cache[key(cur)])
		if d >= s.min && (best == nil || s.cache[key(cur)] > s.cache[key(best)]) {
			best = slices.Clone(cur)
		}
		s.progress("greedy forward selection (slots)", d, s.max)
	}
	return best
}

func (s *searcher) randomPlan() []int {
	n := s.min + s.rng.IntN(s.max-s.min+1)
	p := make([]int, n)
	for i := range p {
		p[i] = s.rng.IntN(len(s.cands))
	}
	return p
}

// mutate applies one edit that keeps the depth within bounds.
func (s *searcher) mutate(p []int) []int {
	p = slices.Clone(p)
	var ops []int // 0 replace, 1 swap, 2 insert, 3 delete
	ops = append(ops, 0)
	if len(p) >= 2 {
		ops = append(ops, 1)
	}
	if len(p) < s.max {
		ops = append(ops, 2)
	}
	if len(p) > s.min {
		ops = append(ops, 3)
	}
	switch ops[s.rng.IntN(len(ops))] {
	case 0:
		p[s.rng.IntN(len(p))] = s.rng.IntN(len(s.cands))
	case 1:
		i, j := s.rng.IntN(len(p)), s.rng.IntN(len(p))
		p[i], p[j] = p[j], p[i]
	case 2:
		p = slices.Insert(p, s.rng.IntN(len(p)+1), s.rng.IntN(len(s.cands)))
	case 3:
		i := s.rng.IntN(len(p))
		p = slices.Delete(p, i, i+1)
		if len(p) == 0 { // only when min is 0, which Search refuses
			p = []int{s.rng.IntN(len(s.cands))}
		}
	}
	return p
}

// crossover joins a head of a with a tail of b, then fits the depth bounds.
func (s *searcher) crossover(a, b []int) []int {
	i, j := 1+s.rng.IntN(len(a)), s.rng.IntN(len(b))
	child := append(slices.Clone(a[:i]), b[j:]...)
	if len(child) > s.max {
		child = child[:s.max]
	}
	for len(child) < s.min {
		child = append(child, s.rng.IntN(len(s.cands)))
	}
	return child
}

// tournament picks the best of three random members of a sorted population.
func (s *searcher) tournament(pop [][]int) []int {
	best := s.rng.IntN(len(pop))
	for k := 0; k < 2; k++ {
		if c := s.rng.IntN(len(pop)); c < best {
			best = c
		}
	}
	return pop[best]
}

func (s *searcher) evolve(opt SearchOptions, seeds [][]int, res *SearchResult) {
	var pop [][]int
	inPop := map[string]bool{}
	add := func(p []int) bool {
		if inPop[key(p)] {
			return false
		}
		inPop[key(p)] = true
		pop = append(pop, p)
		return true
	}
	for _, p := range seeds {
		if len(pop) < opt.Population {
			add(p)
		}
	}
	for tries := 0; len(pop) < opt.Population && tries < 100*opt.Population; tries++ {
		add(s.randomPlan())
	}
	for g := 1; g <= opt.Generations; g++ {
		fresh := s.eval(pop)
		sort.SliceStable(pop, func(i, j int) bool { return s.better(pop[i], pop[j]) })
		mean := 0.0
		for _, p := range pop {
			mean += s.cache[key(p)]
		}
		res.Generations = append(res.Generations, GenerationStats{Generation: g, Best: s.cache[key(pop[0])],
			Mean: mean / float64(len(pop)), New: fresh})
		s.progress("evolution (generations)", g, opt.Generations)
		if g == opt.Generations {
			break
		}
		next := pop[:0:0]
		inPop = map[string]bool{}
		pop, next = next, pop
		for _, e := range next[:min(2, len(next))] {
			add(e)
		}
		for tries := 0; len(pop) < opt.Population && tries < 100*opt.Population; tries++ {
			child := s.tournament(next)
			if s.rng.Float64() < 0.5 {
				child = s.crossover(child, s.tournament(next))
			}
			child = s.mutate(child)
			if s.rng.Float64() < 0.25 {
				child = s.mutate(child)
			}
			add(child)
		}
	}
}
