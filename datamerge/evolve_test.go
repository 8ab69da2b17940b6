package datamerge

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/internal/vittest"
	"github.com/frankenvit/frankenvit/merge"
	"github.com/frankenvit/frankenvit/merge/methods"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
)

var evoNorm = dataset.Normalization{Mean: []float32{0.5}, Std: []float32{0.3}}

// evoModel is a tiny shuffle model (vittest.TinyModel).
func evoModel(t testing.TB, name string, depth int, seed uint64) *vit.Model {
	return vittest.TinyModel(t, name, depth, vit.Shuffle, seed)
}

// quadratic is a synthetic fitness: minus the squared distance of the
// values to target; calls counts the candidates scored.
func quadratic(target []float64, calls *int) batchFitness {
	return func(values [][]float64) ([]fitness, error) {
		out := make([]fitness, len(values))
		for i, v := range values {
			*calls++
			for j := range v {
				out[i].fit -= (v[j] - target[j]) * (v[j] - target[j])
			}
		}
		return out, nil
	}
}

func mustLayout(t *testing.T, method string, sources []string, depth int, opt EvolveOptions) *layout {
	t.Helper()
	l, err := newLayout(method, sources, depth, opt)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestEvolveFindsQuadraticOptimum(t *testing.T) {
	opt := EvolveOptions{Evaluations: 600, Population: 8, Seed: 3}
	l := mustLayout(t, "ties", []string{"a", "b"}, 2, opt)
	// genes: weight a, weight b, density a, density b (default params of ties)
	if len(l.genes) != 4 || l.genes[0].param != "weight" || l.genes[2].param != "density" {
		t.Fatalf("genes %+v, want weight and density per source", l.genes)
	}
	target := []float64{0.2, 0.7, 0.45, 0.9}
	calls := 0
	res, best, err := l.run(opt, quadratic(target, &calls))
	if err != nil {
		t.Fatal(err)
	}
	for j := range target {
		if math.Abs(best[j]-target[j]) > 0.05 {
			t.Errorf("%s: found %.4f, want %.4f", l.header(8, 0.25, 3).Genes[j], best[j], target[j])
		}
	}
	if res.Evaluations != 600 || calls != 600 {
		t.Errorf("%d evaluations, %d calls, want 600", res.Evaluations, calls)
	}
	if res.Best[1].Source != "b" || res.Best[1].Param != "weight" || res.Best[1].Value != best[1] {
		t.Errorf("best params %+v do not name the values", res.Best)
	}
}

func TestEvolvePerBlockGenome(t *testing.T) {
	l := mustLayout(t, "slerp", []string{"a"}, 3, EvolveOptions{PerBlock: true})
	// slerp's t is merge-wide: one gene per part (stem, 3 blocks, head).
	if len(l.genes) != 5 || l.genes[1].part != "blocks.0" || l.genes[1].source != -1 {
		t.Fatalf("genes %+v", l.genes)
	}
	vals := []float64{0.1, 0.2, 0.3, 0.4, 0.5}
	p := l.params(vals)
	_, g := p(merge.TensorRef{Part: "block", Block: 2})
	_, h := p(merge.TensorRef{Part: "head", Block: -1})
	if g["t"] != 0.4 || h["t"] != 0.5 {
		t.Errorf("block 2 t %v, head t %v: want 0.4, 0.5", g["t"], h["t"])
	}
}

func trajectoryOf(t *testing.T, opt EvolveOptions, target []float64) ([]byte, *EvolveResult, int) {
	t.Helper()
	var buf bytes.Buffer
	opt.Trajectory = &buf
	l := mustLayout(t, "linear", []string{"a", "b", "c"}, 2, opt)
	calls := 0
	res, _, err := l.run(opt, quadratic(target, &calls))
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), res, calls
}

func TestEvolveSameSeedSameTrajectory(t *testing.T) {
	target := []float64{0.3, 0.6, 0.1}
	opt := EvolveOptions{Evaluations: 30, Population: 6, Seed: 7}
	a, _, _ := trajectoryOf(t, opt, target)
	b, _, _ := trajectoryOf(t, opt, target)
	if !bytes.Equal(a, b) {
		t.Fatal("the same seed gave two trajectories")
	}
	if n := bytes.Count(a, []byte("\n")); n != 31 {
		t.Errorf("%d lines, want a header and 30 evaluations", n)
	}
	opt.Seed = 8
	c, _, _ := trajectoryOf(t, opt, target)
	if bytes.Equal(a, c) {
		t.Error("another seed gave the same trajectory")
	}
}

func TestEvolveResumeFromHalfATrajectory(t *testing.T) {
	target := []float64{0.3, 0.6, 0.1}
	opt := EvolveOptions{Evaluations: 41, Population: 6, Seed: 11}
	full, want, _ := trajectoryOf(t, opt, target)
	lines := bytes.SplitAfter(full, []byte("\n"))
	half := bytes.Join(lines[:1+20], nil) // header and evaluations 0..19 (mid-generation)
	torn := append(append([]byte(nil), half...), lines[21][:10]...)
	opt.Resume = torn
	rest, got, calls := trajectoryOf(t, opt, target)
	if calls != 21 || got.Replayed != 20 {
		t.Errorf("%d new evaluations and %d replayed, want 21 and 20", calls, got.Replayed)
	}
	if !bytes.Equal(append(half, rest...), full) {
		t.Error("the resumed trajectory differs from the uninterrupted one")
	}
	if got.BestFitness != want.BestFitness || got.BestEval != want.BestEval || got.Evaluations != 41 {
		t.Errorf("resumed best %v at %d after %d, uninterrupted %v at %d", got.BestFitness, got.BestEval, got.Evaluations, want.BestFitness, want.BestEval)
	}
	// A trajectory of another search is refused.
	opt.Seed = 12
	l := mustLayout(t, "linear", []string{"a", "b", "c"}, 2, opt)
	calls = 0
	if _, _, err := l.run(opt, quadratic(target, &calls)); err == nil || !strings.Contains(err.Error(), "another search") {
		t.Errorf("resume with another seed: %v", err)
	}
}

// evoSources are two tiny models with noise validation data.
func evoSources(t *testing.T) []Source {
	var out []Source
	for i, name := range []string{"a", "b"} {
		out = append(out, Source{Model: evoModel(t, name, 2, uint64(i+1)),
			Data: synth.NoiseSplit(48, 1, 8, 8, 4, rand.New(rand.NewPCG(uint64(i), 5))), Norm: evoNorm})
	}
	return out
}

func meanAccuracy(m *vit.Model, plan vit.Plan, sources []Source) float64 {
	s := 0.0
	for _, src := range sources {
		acc, _ := trainer.NewEvaluator(m, src.Data, src.Norm).Accuracy(plan)
		s += acc / float64(len(sources))
	}
	return s
}

func TestEvolveTinyPopulation(t *testing.T) {
	sources := evoSources(t)
	var traj bytes.Buffer
	m, res, err := Evolve("evolved", "linear", nil, sources, EvolveOptions{Evaluations: 13, Population: 4, PerBlock: true, Seed: 1, Trajectory: &traj})
	if err != nil {
		t.Fatal(err)
	}
	plain, err := merge.WeightMerge("plain", "linear", nil, []*vit.Model{sources[0].Model, sources[1].Model}, nil, methods.Params{"weight": 1}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if start := meanAccuracy(plain, plain.Sequential(), sources); res.StartFitness != start {
		t.Errorf("start fitness %v, the plain merge scores %v", res.StartFitness, start)
	}
	if res.BestFitness < res.StartFitness {
		t.Errorf("best %v below the start %v", res.BestFitness, res.StartFitness)
	}
	if got := meanAccuracy(m, m.Sequential(), sources); got != res.BestFitness {
		t.Errorf("the returned model scores %v, the search said %v", got, res.BestFitness)
	}
	if res.Evaluations != 13 || bytes.Count(traj.Bytes(), []byte("\n")) != 14 {
		t.Errorf("%d evaluations, %d trajectory lines", res.Evaluations, bytes.Count(traj.Bytes(), []byte("\n")))
	}
}

func TestEvolveWithPlanSearch(t *testing.T) {
	sources := evoSources(t)
	m, res, err := Evolve("evolved", "linear", nil, sources, EvolveOptions{Evaluations: 5, Population: 4, Seed: 2,
		PlanSearch: &merge.SearchOptions{MaxDepth: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Search == nil {
		t.Fatal("no plan search result")
	}
	got := meanAccuracy(m, m.Sequential(), sources)
	if got < res.BestFitness || got != max(res.Search.Best.Score, res.Search.Baseline.Score) {
		t.Errorf("the returned model scores %v; parameter search %v, plan search best %v", got, res.BestFitness, res.Search.Best.Score)
	}
}

func TestEvolveBadInput(t *testing.T) {
	sources := evoSources(t)
	for _, c := range []struct {
		method string
		base   *vit.Model
		opt    EvolveOptions
		want   string
	}{
		{"nope", nil, EvolveOptions{}, "unknown method"},
		{"ties", nil, EvolveOptions{}, "needs a base"},
		{"linear", nil, EvolveOptions{Params: []string{"normalize"}}, "switch"},
		{"linear", nil, EvolveOptions{Params: []string{"density"}}, "no parameter"},
		{"linear", nil, EvolveOptions{Population: 1}, "population"},
		{"linear", nil, EvolveOptions{Evaluations: -1}, "evaluations"},
		{"linear", nil, EvolveOptions{Ranges: map[string][2]float64{"weight": {1, 0}}}, "range"},
		{"linear", nil, EvolveOptions{Resume: []byte("{\"eval\":0}\n")}, "header"},
	} {
		_, _, err := Evolve("x", c.method, c.base, sources, c.opt)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s %+v: %v, want one line with %q", c.method, c.opt, err, c.want)
		}
	}
	if _, _, err := Evolve("a", "linear", nil, sources, EvolveOptions{}); err == nil {
		t.Error("a result named like a source was accepted")
	}
}

// A trajectory file cut by a crash (a torn last line) resumes to the
// uninterrupted run's file and result, on real merges.
func TestEvolveResumeFromFile(t *testing.T) {
	sources := evoSources(t)
	opt := EvolveOptions{Evaluations: 9, Population: 4, Seed: 5}
	var full bytes.Buffer
	opt.Trajectory = &full
	_, want, err := Evolve("evolved", "linear", nil, sources, opt)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(full.Bytes(), []byte("\n"))
	path := filepath.Join(t.TempDir(), "trajectory.jsonl")
	cut := append(bytes.Join(lines[:1+6], nil), lines[7][:5]...)
	if err := os.WriteFile(path, cut, 0o644); err != nil {
		t.Fatal(err)
	}
	f, prior, err := AppendTrajectory(path)
	if err != nil {
		t.Fatal(err)
	}
	opt.Trajectory, opt.Resume = f, prior
	_, got, err := Evolve("evolved", "linear", nil, sources, opt)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(data, full.Bytes()) {
		t.Errorf("resumed file:\n%s\nuninterrupted:\n%s", data, full.Bytes())
	}
	if got.Replayed != 6 || got.BestFitness != want.BestFitness || got.BestEval != want.BestEval {
		t.Errorf("resumed: replayed %d, best %v at %d; uninterrupted best %v at %d", got.Replayed, got.BestFitness, got.BestEval, want.BestFitness, want.BestEval)
	}
}

// A candidate the method refuses (TIES at a density keeping no element of
// the tiny head's 4-element bias) scores worst and the search goes on; it
// is marked in the trajectory.
func TestEvolveInfeasibleCandidates(t *testing.T) {
	sources := evoSources(t)
	var traj bytes.Buffer
	base := sources[0].Model
	_, res, err := Evolve("evolved", "ties", base, sources[1:], EvolveOptions{Evaluations: 12, Population: 4, Seed: 2,
		Params: []string{"density"}, Ranges: map[string][2]float64{"density": {0.01, 0.3}}, Trajectory: &traj})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(traj.Bytes(), []byte(`"infeasible":"evolve: `)) {
		t.Errorf("no infeasible candidate recorded:\n%s", traj.String())
	}
	if res.BestFitness <= 0 || res.Evaluations != 12 {
		t.Errorf("best %v after %d evaluations", res.BestFitness, res.Evaluations)
	}
}
