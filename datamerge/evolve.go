package datamerge

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"github.com/frankenvit/frankenvit/internal/gopanic"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

// EvolveOptions control Evolve. The zero value of every field has a default.
type EvolveOptions struct {
	// Evaluations is the budget of merged models scored, the starting
	// point included (default 100).
	Evaluations int
	// Population is CMA-ES's number of candidates per generation (default
	// CMA-ES's own, 4+3 ln(genes); at least 2).
	Population int
	// PerBlock evolves one set of parameters per part (the stem, each block,
	// the head) instead of one for the whole model.
	PerBlock bool
	// Params names the method's parameters to evolve: per-model ones get a
	// gene per source (and part), merge-wide ones a gene per part. Default:
	// "weight" plus the method's main other one (density, else t).
	Params []string
	// Fixed are parameters that are not evolved, for the whole merge
	// (e.g. normalize, lambda); a required weight that is neither evolved
	// nor fixed is 1, as in a plain merge.
	Fixed methods.Params
	// Ranges overrides the searched range of a parameter (it must lie in
	// the method's allowed range). The default is the allowed range, with
	// weight in [0, 1] and an unbounded side at the default plus or minus 1.
	Ranges map[string][2]float64
	// Step is CMA-ES's initial step size in units of a parameter's range
	// (default 0.25).
	Step float64
	// Seed seeds CMA-ES and the random merge methods (every candidate gets
	// the same random masks, so candidates differ only by their parameters).
	Seed uint64
	// Trajectory receives the search as JSON lines as it goes (see
	// TrajectoryEntry); after a resume only the new lines. A writer with a
	// Sync method (an *os.File, see AppendTrajectory) is synced after every
	// generation.
	Trajectory io.Writer
	// Resume is an earlier run's trajectory: its evaluations are replayed
	// (their recorded fitness instead of a new evaluation), which puts
	// CMA-ES back in the same state, and the search continues from there.
	Resume []byte
	// Log, if set, gets one line per generation.
	Log io.Writer
	// Workers is the number of candidates evaluated side by side (default:
	// the cores left over by one evaluation; the evaluator already spreads
	// the batches of a validation split over the cores).
	Workers int
	// PlanSearch, if set, runs merge.Search after the parameter search
	// over the merged model's blocks and the sources' blocks, on the merged
	// model's stem and head (Stem is set to the merged model).
	PlanSearch *merge.SearchOptions
}

// ParamValue is one evolved parameter of the merge.
type ParamValue struct {
	// Part is "all" (one set for the whole model), "stem", "blocks.{i}" or "head".
	Part string `json:"part"`
	// Source is the source model of a per-model parameter, "" for a merge-wide one.
	Source string  `json:"source,omitempty"`
	Param  string  `json:"param"`
	Value  float64 `json:"value"`
}

// EvolveResult is what the search found.
type EvolveResult struct {
	Method string `json:"method"`
	// Best are the parameters of the fittest merge; BestFitness its mean
	// validation accuracy over the sources (each source's data is its task),
	// BestAccuracy the accuracy per source, BestEval its evaluation number.
	Best         []ParamValue `json:"best"`
	BestFitness  float64      `json:"best_fitness"`
	BestLoss     float64      `json:"best_loss"`
	BestAccuracy []float64    `json:"best_accuracy,omitempty"`
	BestEval     int          `json:"best_eval"`
	// StartFitness is the fitness of the starting point (the method's
	// defaults, every weight 1: a plain merge), evaluation 0.
	StartFitness float64 `json:"start_fitness"`
	// Evaluations were scored in all (Replayed of them from Resume);
	// Generations of CMA-ES ran. Converged says CMA-ES stopped on its own
	// before the budget was spent.
	Evaluations int  `json:"evaluations"`
	Replayed    int  `json:"replayed"`
	Generations int  `json:"generations"`
	Converged   bool `json:"converged"`
	// Search is the plan search's result (PlanSearch set); Plan the blocks
	// of the returned model when the search beat the merged model's own plan.
	Search *merge.SearchResult `json:"search,omitempty"`
	Plan   []merge.Ref         `json:"plan,omitempty"`
}

// TrajectoryHeader is the first line of a trajectory: everything that must
// agree for a resume to replay it.
type TrajectoryHeader struct {
	Method     string         `json:"method"`
	Sources    []string       `json:"sources"`
	Genes      []string       `json:"genes"` // part/source/param, "-" for a merge-wide parameter
	Ranges     [][2]float64   `json:"ranges"`
	Start      []float64      `json:"start"`
	Population int            `json:"population"`
	Step       float64        `json:"step"`
	Seed       uint64         `json:"seed"`
	Fixed      methods.Params `json:"fixed,omitempty"`
}

// TrajectoryEntry is one evaluation of a trajectory (one JSON line).
type TrajectoryEntry struct {
	Eval       int `json:"eval"`
	Generation int `json:"generation"` // 0: the starting point
	// Genome is CMA-ES's point; Params the merge parameters it maps to.
	Genome   []float64    `json:"genome"`
	Params   []ParamValue `json:"params"`
	Fitness  float64      `json:"fitness"`
	Loss     float64      `json:"loss"`
	Accuracy []float64    `json:"accuracy,omitempty"`
	// Infeasible is why the method refused these parameters (e.g. a
	// density that keeps no element of a small tensor); such a candidate
	// scores fitness 0 and loss InfeasibleLoss.
	Infeasible string `json:"infeasible,omitempty"`
}

// InfeasibleLoss is the loss recorded for a candidate the method refused:
// finite, so CMA-ES ranks it below every merge that ran.
const InfeasibleLoss = 1e6

// trajectoryLine is a line of a trajectory file: a header or an entry.
type trajectoryLine struct {
	Evolve *TrajectoryHeader `json:"evolve,omitempty"`
	*TrajectoryEntry
}

// AppendTrajectory opens a trajectory file for appending and returns its
// earlier lines (for EvolveOptions.Resume). A line torn by a crash is cut
// off first. Appending lines is the one exception to internal/durable's
// write-and-rename: the file grows as the search goes, and every generation
// is synced, so a crash loses at most the generation being written.
func AppendTrajectory(path string) (*os.File, []byte, error) {
	prior, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("trajectory %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("trajectory %s: %w", path, err)
	}
	keep := bytes.LastIndexByte(prior, '\n') + 1
	prior = prior[:keep]
	if err := f.Truncate(int64(keep)); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("trajectory %s: %w", path, err)
	}
	if _, err := f.Seek(int64(keep), io.SeekStart); err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("trajectory %s: %w", path, err)
	}
	return f, prior, nil
}

// gene is one coordinate of the genome.
type gene struct {
	param  string
	source int // -1: merge-wide
	part   string
	lo, hi float64
}

// layout maps genomes to merge parameters.
type layout struct {
	method  string
	spec    methods.Spec
	sources []string
	parts   []string
	genes   []gene
	start   []float64
	fixed   methods.Params
	perBlk  bool
}

// defaultParams is "weight" plus the method's main other parameter.
func defaultParams(spec methods.Spec) []string {
	var out []string
	if _, ok := spec.Param("weight"); ok {
		out = append(out, "weight")
	}
	for _, n := range []string{"density", "t"} {
		if _, ok := spec.Param(n); ok {
			return append(out, n)
		}
	}
	return out
}

// searchRange is the range a parameter is searched in.
func searchRange(p methods.ParamSpec, override map[string][2]float64) (float64, float64, error) {
	if r, ok := override[p.Name]; ok {
		if !(r[0] < r[1]) || r[0] < p.Min || r[1] > p.Max {
			return 0, 0, fmt.Errorf("range of %s [%g, %g]: want lo < hi within [%g, %g]", p.Name, r[0], r[1], p.Min, p.Max)
		}
		return r[0], r[1], nil
	}
	lo, hi := p.Min, p.Max
	if p.Name == "weight" {
		lo, hi = max(lo, 0), min(hi, 1)
	}
	const wide = 1e6
	if lo < -wide {
		lo = max(p.Min, p.Default-1)
	}
	if hi > wide {
		hi = max(p.Default, lo) + 1
	}
	if !(lo < hi) {
		return 0, 0, fmt.Errorf("parameter %s has no range to search", p.Name)
	}
	return lo, hi, nil
}

func newLayout(method string, sources []string, depth int, opt EvolveOptions) (*layout, error) {
	m, ok := methods.Lookup(method)
	if !ok {
		return nil, fmt.Errorf("evolve: unknown method %q (known: %s)", method, strings.Join(methods.Names(), ", "))
	}
	spec := m.Spec()
	names := opt.Params
	if len(names) == 0 {
		names = defaultParams(spec)
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("evolve: %s has no default parameters to evolve; name them", method)
	}
	l := &layout{method: method, spec: spec, sources: sources, fixed: opt.Fixed, perBlk: opt.PerBlock}
	if opt.PerBlock {
		l.parts = append(l.parts, "stem")
		for i := 0; i < depth; i++ {
			l.parts = append(l.parts, fmt.Sprintf("blocks.%d", i))
		}
		l.parts = append(l.parts, "head")
	} else {
		l.parts = []string{"all"}
	}
	type ranged struct {
		p      methods.ParamSpec
		lo, hi float64
	}
	var ps []ranged
	for _, n := range names {
		p, ok := spec.Param(n)
		if !ok {
			var known []string
			for _, q := range spec.Params {
				known = append(known, q.Name)
			}
			return nil, fmt.Errorf("evolve: %s has no parameter %q (it has: %s)", method, n, strings.Join(known, ", "))
		}
		if p.Bool {
			return nil, fmt.Errorf("evolve: %s is a switch, not a number to evolve; fix it instead", n)
		}
		if slices.ContainsFunc(ps, func(r ranged) bool { return r.p.Name == n }) {
			return nil, fmt.Errorf("evolve: parameter %s is named twice", n)
		}
		lo, hi, err := searchRange(p, opt.Ranges)
		if err != nil {
			return nil, fmt.Errorf("evolve: %v", err)
		}
		ps = append(ps, ranged{p, lo, hi})
	}
	for _, part := range l.parts {
		for _, r := range ps {
			srcs := []int{-1}
			if r.p.PerModel {
				srcs = make([]int, len(sources))
				for i := range srcs {
					srcs[i] = i
				}
			}
			for _, s := range srcs {
				l.genes = append(l.genes, gene{param: r.p.Name, source: s, part: part, lo: r.lo, hi: r.hi})
				// The start is a plain merge: the fixed value, else 1 for a
				// required weight, else the method's default.
				v, ok := opt.Fixed[r.p.Name]
				if !ok {
					v = r.p.Default
					if r.p.Required && r.p.Name == "weight" {
						v = 1
					}
				}
				l.start = append(l.start, min(1, max(0, (v-r.lo)/(r.hi-r.lo))))
			}
		}
	}
	return l, nil
}

// reflect01 folds a genome coordinate into [0, 1] by reflection at the
// bounds: unlike clipping it has no flat regions, so CMA-ES keeps a gradient
// of ranks near a bound.
func reflect01(g float64) float64 {
	if math.IsNaN(g) || math.IsInf(g, 0) {
		return 0.5
	}
	g = math.Mod(g, 2)
	if g < 0 {
		g += 2
	}
	if g > 1 {
		g = 2 - g
	}
	return g
}

// values maps a genome to parameter values.
func (l *layout) values(genome []float64) []float64 {
	out := make([]float64, len(genome))
	for i, g := range l.genes {
		out[i] = g.lo + (g.hi-g.lo)*reflect01(genome[i])
	}
	return out
}

func (l *layout) paramValues(values []float64) []ParamValue {
	out := make([]ParamValue, len(values))
	for i, g := range l.genes {
		out[i] = ParamValue{Part: g.part, Param: g.param, Value: values[i]}
		if g.source >= 0 {
			out[i].Source = l.sources[g.source]
		}
	}
	return out
}

func (l *layout) partOf(ref merge.TensorRef) string {
	switch {
	case !l.perBlk:
		return "all"
	case ref.Part == "block":
		return fmt.Sprintf("blocks.%d", ref.Block)
	}
	return ref.Part
}

// params is the per-tensor parameter source of a merge with these values.
func (l *layout) params(values []float64) func(merge.TensorRef) ([]methods.Params, methods.Params) {
	type set struct {
		per    []methods.Params
		global methods.Params
	}
	sets := map[string]*set{}
	for _, part := range l.parts {
		s := &set{per: make([]methods.Params, len(l.sources)), global: methods.Params{}}
		for k, v := range l.fixed {
			s.global[k] = v
		}
		if p, ok := l.spec.Param("weight"); ok && p.Required {
			if _, given := s.global["weight"]; !given {
				s.global["weight"] = 1
			}
		}
		for i := range s.per {
			s.per[i] = methods.Params{}
		}
		sets[part] = s
	}
	for i, g := range l.genes {
		s := sets[g.part]
		if g.source < 0 {
			s.global[g.param] = values[i]
		} else {
			s.per[g.source][g.param] = values[i]
		}
	}
	return func(ref merge.TensorRef) ([]methods.Params, methods.Params) {
		s := sets[l.partOf(ref)]
		return s.per, s.global
	}
}

func (l *layout) header(pop int, step float64, seed uint64) TrajectoryHeader {
	h := TrajectoryHeader{Method: l.method, Sources: l.sources, Start: l.start, Population: pop, Step: step, Seed: seed, Fixed: l.fixed}
	for _, g := range l.genes {
		src := "-"
		if g.source >= 0 {
			src = l.sources[g.source]
		}
		h.Genes = append(h.Genes, g.part+"/"+src+"/"+g.param)
		h.Ranges = append(h.Ranges, [2]float64{g.lo, g.hi})
	}
	return h
}

// fitness is one evaluation's outcome.
type fitness struct {
	fit, loss  float64
	acc        []float64
	infeasible string // why the method refused the candidate's parameters
}

// batchFitness scores a generation's parameter values (in parallel).
type batchFitness func(values [][]float64) ([]fitness, error)

// parseTrajectory reads an earlier trajectory, checking it belongs to the
// search described by want. A last line without its newline (torn) is dropped.
func parseTrajectory(data []byte, want TrajectoryHeader) (entries []TrajectoryEntry, hasHeader bool, err error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, false, nil
	}
	if i := bytes.LastIndexByte(data, '\n'); i < len(data)-1 {
		data = data[:i+1]
	}
	wantJSON, _ := json.Marshal(want)
	for n, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var tl trajectoryLine
		if err := json.Unmarshal(line, &tl); err != nil {
			return nil, false, fmt.Errorf("resume: trajectory line %d: %v", n+1, err)
		}
		if !hasHeader {
			if tl.Evolve == nil {
				return nil, false, fmt.Errorf("resume: trajectory line %d: want the header {\"evolve\": ...} first", n+1)
			}
			got, _ := json.Marshal(tl.Evolve)
			if !bytes.Equal(got, wantJSON) {
				return nil, false, errors.New("resume: the trajectory is of another search (method, sources, genes, population, step, seed or fixed parameters differ)")
			}
			hasHeader = true
			continue
		}
		if tl.TrajectoryEntry == nil || tl.Evolve != nil {
			return nil, false, fmt.Errorf("resume: trajectory line %d is not an evaluation", n+1)
		}
		if tl.Eval != len(entries) {
			return nil, false, fmt.Errorf("resume: trajectory line %d is evaluation %d, want %d", n+1, tl.Eval, len(entries))
		}
		entries = append(entries, *tl.TrajectoryEntry)
	}
	return entries, hasHeader, nil
}

// run searches the genome with CMA-ES, scoring candidates with score.
func (l *layout) run(opt EvolveOptions, score batchFitness) (*EvolveResult, []float64, error) {
	budget := opt.Evaluations
	if budget == 0 {
		budget = 100
	}
	pop := opt.Population
	if pop == 0 {
		pop = 4 + int(3*math.Log(float64(len(l.genes))))
	}
	step := opt.Step
	if step == 0 {
		step = 0.25
	}
	switch {
	case budget < 1:
		return nil, nil, fmt.Errorf("evolve: evaluations %d: want at least 1", budget)
	case pop < 2:
		return nil, nil, fmt.Errorf("evolve: population %d: want at least 2", pop)
	case !(step > 0) || math.IsInf(step, 0):
		return nil, nil, fmt.Errorf("evolve: step %g: want a positive number", step)
	}
	header := l.header(pop, step, opt.Seed)
	recorded, hasHeader, err := parseTrajectory(opt.Resume, header)
	if err != nil {
		return nil, nil, err
	}
	w := opt.Trajectory
	writeLine := func(v any) error {
		if w == nil {
			return nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("trajectory: %v", err)
		}
		if _, err := w.Write(append(b, '\n')); err != nil {
			return fmt.Errorf("trajectory: %w", err)
		}
		return nil
	}
	if !hasHeader {
		if err := writeLine(trajectoryLine{Evolve: &header}); err != nil {
			return nil, nil, err
		}
	}
	res := &EvolveResult{Method: l.method, BestEval: -1}
	var bestGenome []float64
	k := 0
	// evalGen scores (or replays) a generation and returns CMA-ES's
	// objective per genome: minus the fitness, with the loss as a tiny
	// tie-breaker (accuracies tie often on a small validation split).
	evalGen := func(gen int, genomes [][]float64) ([]float64, error) {
		vals := make([][]float64, len(genomes))
		for j, g := range genomes {
			vals[j] = l.values(g)
		}
		got := make([]fitness, len(genomes))
		var todo []int
		for j, g := range genomes {
			if k+j >= len(recorded) {
				todo = append(todo, j)
				continue
			}
			r := recorded[k+j]
			if !slices.Equal(r.Genome, g) {
				return nil, fmt.Errorf("resume: evaluation %d of the trajectory has another genome than this run's (another seed, options or gonum version)", k+j)
			}
			got[j] = fitness{r.Fitness, r.Loss, r.Accuracy, r.Infeasible}
			res.Replayed++
		}
		if len(todo) > 0 {
			batch := make([][]float64, len(todo))
			for i, j := range todo {
				batch[i] = vals[j]
			}
			fs, err := score(batch)
			if err != nil {
				return nil, err
			}
			for i, j := range todo {
				got[j] = fs[i]
			}
		}
		mean := 0.0
		obj := make([]float64, len(genomes))
		for j, g := range genomes {
			f := got[j]
			obj[j] = -f.fit + 1e-9*f.loss
			if math.IsNaN(f.fit) || math.IsInf(f.fit, 0) || math.IsNaN(f.loss) || math.IsInf(f.loss, 0) {
				return nil, fmt.Errorf("evolve: evaluation %d has fitness %g, loss %g: want finite numbers", k+j, f.fit, f.loss)
			}
			mean += f.fit / float64(len(genomes))
			if k+j == 0 && f.infeasible != "" {
				return nil, fmt.Errorf("evolve: the starting point (the plain merge) cannot be built: %s", f.infeasible)
			}
			e := TrajectoryEntry{Eval: k + j, Generation: gen, Genome: slices.Clone(g), Params: l.paramValues(vals[j]),
				Fitness: f.fit, Loss: f.loss, Accuracy: f.acc, Infeasible: f.infeasible}
			if k+j >= len(recorded) {
				if err := writeLine(trajectoryLine{TrajectoryEntry: &e}); err != nil {
					return nil, err
				}
			}
			if k+j == 0 {
				res.StartFitness = f.fit
			}
			if res.BestEval < 0 || f.fit > res.BestFitness || f.fit == res.BestFitness && f.loss < res.BestLoss {
				res.BestEval, res.BestFitness, res.BestLoss, res.BestAccuracy = k+j, f.fit, f.loss, f.acc
				res.Best, bestGenome = e.Params, e.Genome
			}
		}
		if s, ok := w.(interface{ Sync() error }); ok && len(todo) > 0 {
			if err := s.Sync(); err != nil {
				return nil, fmt.Errorf("trajectory: %w", err)
			}
		}
		k += len(genomes)
		res.Evaluations = k
		if opt.Log != nil {
			fmt.Fprintf(opt.Log, "evolve %s: generation %d, evaluations %d/%d, best %.4f, generation mean %.4f\n",
				l.method, gen, k, budget, res.BestFitness, mean)
		}
		return obj, nil
	}
	if _, err := evalGen(0, [][]float64{slices.Clone(l.start)}); err != nil {
		return nil, nil, err
	}
	if budget > 1 {
		converged, err := l.cma(pop, step, opt.Seed, budget-1, func(gen int, genomes [][]float64) ([]float64, error) {
			res.Generations = gen
			return evalGen(gen, genomes)
		})
		if err != nil {
			return nil, nil, err
		}
		res.Converged = converged
	}
	return res, l.values(bestGenome), nil
}

// cma drives gonum's CmaEsChol generation by generation: it collects a
// whole population, hands it to evalGen (which scores it in parallel and in
// a fixed order) and returns the fitnesses in task order, so the run
// depends only on the seed and the fitness values. It stops when budget
// evaluations are spent (the last generation possibly cut short) or when
// CMA-ES converges (then it says so).
func (l *layout) cma(pop int, step float64, seed uint64, budget int, evalGen func(gen int, genomes [][]float64) ([]float64, error)) (converged bool, err error) {
	dim := len(l.genes)
	// gonum samples from the Cholesky factor alone (InitStepSize only
	// scales the updates), so the initial spread is set there too.
	cov := mat.NewDiagDense(dim, nil)
	for i := 0; i < dim; i++ {
		cov.SetDiag(i, step*step)
	}
	var chol mat.Cholesky
	if !chol.Factorize(cov) {
		return false, fmt.Errorf("evolve: step %g gives no covariance", step)
	}
	c := &optimize.CmaEsChol{InitStepSize: step, InitCholesky: &chol, Population: pop, ForgetBest: true, Src: rand.NewPCG(seed, 0xc3a5e5)}
	c.Init(dim, pop)
	tasks := make([]optimize.Task, pop)
	for i := range tasks {
		tasks[i].Location = &optimize.Location{X: make([]float64, dim)}
	}
	copy(tasks[0].X, l.start)
	ops := make(chan optimize.Task)
	results := make(chan optimize.Task)
	var p gopanic.First
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); p.Run(func() { c.Run(ops, results, tasks) }) }()
	stop := func() {
		results <- optimize.Task{Op: optimize.PostIteration}
		close(results)
		for range ops {
		}
	}
	defer func() {
		wg.Wait()
		p.Repanic()
	}()
	for gen := 1; ; gen++ {
		batch := make([]optimize.Task, pop)
		genomes := make([][]float64, pop)
		for range pop {
			t, ok := <-ops
			if !ok {
				return false, errors.New("evolve: CMA-ES stopped early")
			}
			batch[t.ID], genomes[t.ID] = t, slices.Clone(t.X)
		}
		take := min(pop, budget)
		obj, err := evalGen(gen, genomes[:take])
		if err != nil {
			stop()
			return false, err
		}
		budget -= take
		if take < pop {
			stop()
			return false, nil
		}
		for i := range batch {
			batch[i].Op = optimize.FuncEvaluation
			batch[i].F = obj[i]
			results <- batch[i]
		}
		t := <-ops
		if t.Op == optimize.MethodDone || budget == 0 {
			stop()
			if t.Op == optimize.MethodDone {
				if _, err := c.Status(); err != nil {
					return false, fmt.Errorf("evolve: CMA-ES: %v", err)
				}
				return true, nil
			}
			return false, nil
		}
		results <- optimize.Task{Op: optimize.MajorIteration}
	}
}

// Evolve searches the parameters of a weight merge of the sources (method
// is a merge/methods name; base is its base model, nil when it takes none)
// with CMA-ES, maximising the mean validation accuracy over the sources,
// each scored on its own Data (a validation split: test data never enter the
// search; the caller measures test accuracy afterwards). The genome is the
// evolved parameters per source (per-model ones) or per merge (merge-wide
// ones), per part with PerBlock; each coordinate maps into the parameter's
// search range by reflection at its bounds. Evaluation 0 is the starting
// point, the plain merge (every weight 1, the method's defaults), so the
// result is never worse than it on the validation data. The models of one
// generation are merged and scored side by side.
//
// With PlanSearch, the combined search follows, as Sakana's combined
// parameter-space and data-flow-space merge does: the parameter search first,
// then merge.Search over the best merged model's blocks and the sources'
// blocks on the merged stem and head, scored the same way; the returned
// model runs the best plan found when it beats the merged model's own plan
// (its blocks are then the merged model's and the sources' own, not copies).
func Evolve(name, method string, base *vit.Model, sources []Source, opt EvolveOptions) (*vit.Model, *EvolveResult, error) {
	ev, err := newEvolver(name, method, base, sources, opt)
	if err != nil {
		return nil, nil, err
	}
	res, best, err := ev.l.run(opt, ev.scoreAll)
	if err != nil {
		return nil, nil, err
	}
	model, err := ev.build(best)
	if err != nil {
		return nil, nil, err
	}
	if opt.PlanSearch != nil {
		if model, err = ev.planSearch(model, *opt.PlanSearch, res); err != nil {
			return nil, nil, err
		}
	}
	return model, res, nil
}

// evolver builds and scores the candidates of one Evolve.
type evolver struct {
	name    string
	method  string
	l       *layout
	models  []*vit.Model // the sources, then the base when the method takes one
	tasks   []string
	baseIdx int
	depth   int
	sources []Source
	workers int
	seed    uint64
}

func newEvolver(name, method string, base *vit.Model, sources []Source, opt EvolveOptions) (*evolver, error) {
	m, ok := methods.Lookup(method)
	if !ok {
		return nil, fmt.Errorf("evolve: unknown method %q (known: %s)", method, strings.Join(methods.Names(), ", "))
	}
	spec := m.Spec()
	switch {
	case len(sources) == 0:
		return nil, errors.New("evolve: no sources")
	case len(sources) < spec.MinModels:
		return nil, fmt.Errorf("evolve: %s merges at least %d models, got %d", method, spec.MinModels, len(sources))
	case spec.MaxModels > 0 && len(sources) > spec.MaxModels:
		return nil, fmt.Errorf("evolve: %s merges at most %d models, got %d", method, spec.MaxModels, len(sources))
	case spec.NeedsBase && base == nil:
		return nil, fmt.Errorf("evolve: %s needs a base model (task vectors are model - base)", method)
	case opt.Workers < 0:
		return nil, fmt.Errorf("evolve: workers %d: want 0 (automatic) or more", opt.Workers)
	}
	ev := &evolver{name: name, method: method, sources: sources, baseIdx: -1, seed: opt.Seed}
	var names []string
	anyTask := false
	minBatches := math.MaxInt
	for i, s := range sources {
		switch {
		case s.Model == nil:
			return nil, fmt.Errorf("evolve: source %d has no model", i+1)
		case s.Data == nil || s.Data.N == 0:
			return nil, fmt.Errorf("evolve: source %s has no validation images", s.Model.Name)
		case slices.Contains(names, s.Model.Name):
			return nil, fmt.Errorf("evolve: source %s is given twice", s.Model.Name)
		case s.Model.Name == name:
			return nil, fmt.Errorf("evolve: the result's name %s is a source's", name)
		case i > 0 && len(s.Model.Blocks) != ev.depth:
			return nil, fmt.Errorf("evolve: source %s has %d blocks, %s has %d", s.Model.Name, len(s.Model.Blocks), names[0], ev.depth)
		}
		ev.depth = len(s.Model.Blocks)
		names = append(names, s.Model.Name)
		ev.models = append(ev.models, s.Model)
		ev.tasks = append(ev.tasks, s.Task)
		anyTask = anyTask || s.Task != ""
		minBatches = min(minBatches, trainer.EvalBatches(s.Data.N, s.Model.Config))
	}
	if spec.NeedsBase {
		ev.baseIdx = len(ev.models)
		ev.models = append(ev.models, base)
		ev.tasks = append(ev.tasks, "")
	}
	if !anyTask {
		ev.tasks = nil
	}
	// One evaluation spreads its batches over the cores already; candidates
	// side by side use the cores it leaves.
	ev.workers = opt.Workers
	if ev.workers == 0 {
		ev.workers = max(1, runtime.GOMAXPROCS(0)/minBatches)
	}
	var err error
	if ev.l, err = newLayout(method, names, ev.depth, opt); err != nil {
		return nil, err
	}
	return ev, nil
}

// build merges the sources with these parameter values.
func (ev *evolver) build(values []float64) (*vit.Model, error) {
	idx := make([]int, len(ev.sources))
	for i := range idx {
		idx[i] = i
	}
	stem, blocks, head := merge.SequentialParts(idx, ev.baseIdx, ev.depth)
	r, err := merge.MergeWeights(merge.WeightMergeSpec{Name: ev.name, Method: ev.method, Models: ev.models,
		Stem: stem, Blocks: blocks, Head: head, Params: ev.l.params(values), Seed: ev.seed, Tasks: ev.tasks})
	if err != nil {
		return nil, fmt.Errorf("evolve: %w", err)
	}
	return r.Model, nil
}

// parallel runs fn(i) for i in [0, n) on the evolver's workers, returning
// the first error by index; a worker's panic comes back to the caller.
func (ev *evolver) parallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var p gopanic.First
	for range min(ev.workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Run(func() {
				for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
					errs[i] = fn(i)
				}
			})
		}()
	}
	wg.Wait()
	p.Repanic()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// planScore is a plan's mean validation accuracy and loss over the sources
// on the stem and head of m.
func (ev *evolver) planScore(m *vit.Model, plan vit.Plan) fitness {
	f := fitness{acc: make([]float64, len(ev.sources))}
	n := float64(len(ev.sources))
	for i, s := range ev.sources {
		acc, loss := trainer.NewEvaluator(m, s.Data, s.Norm).Accuracy(plan)
		f.acc[i] = acc
		f.fit += acc / n
		f.loss += loss / n
	}
	return f
}

// scoreAll merges and scores a generation's candidates side by side.
func (ev *evolver) scoreAll(values [][]float64) ([]fitness, error) {
	out := make([]fitness, len(values))
	err := ev.parallel(len(values), func(i int) error {
		m, err := ev.build(values[i])
		if err != nil {
			// The method refused these parameters (the checks before the
			// search passed, so the models fit): the worst candidate, not
			// the end of the search.
			out[i] = fitness{loss: InfeasibleLoss, acc: make([]float64, len(ev.sources)), infeasible: err.Error()}
			return nil
		}
		out[i] = ev.planScore(m, m.Sequential())
		return nil
	})
	return out, err
}

// planSearch runs merge.Search over the merged model's and the sources'
// blocks on the merged stem and head, and returns the model of the best
// plan if it beats the merged model's own.
func (ev *evolver) planSearch(merged *vit.Model, so merge.SearchOptions, res *EvolveResult) (*vit.Model, error) {
	pool, err := merge.NewPool(append([]*vit.Model{merged}, ev.models[:len(ev.sources)]...)...)
	if err != nil {
		return nil, fmt.Errorf("evolve: %w", err)
	}
	so.Stem = merged.Name
	score := func(plans []vit.Plan) []float64 {
		out := make([]float64, len(plans))
		_ = ev.parallel(len(plans), func(i int) error {
			out[i] = ev.planScore(merged, plans[i]).fit
			return nil
		})
		return out
	}
	sr, err := merge.Search(pool, so, score, nil)
	if err != nil {
		return nil, fmt.Errorf("evolve: plan search: %w", err)
	}
	res.Search = sr
	if sr.Best.Score <= sr.Baseline.Score {
		return merged, nil
	}
	m, err := merge.Splice{Stem: merged.Name, Head: merged.Name, Blocks: sr.Best.Blocks}.Build(merged.Name, pool)
	if err != nil {
		return nil, fmt.Errorf("evolve: plan search: %w", err)
	}
	res.Plan = sr.Best.Blocks
	return m, nil
}
