package datamerge

import (
	"bytes"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/vit"
)

var adaNorm = dataset.Normalization{Mean: []float32{0.5}, Std: []float32{0.3}}

// adaConfig is a tiny ViT (optionally with one 4-class head per task).
func adaConfig(tasks []string) vit.Config {
	c := vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1, Patch: 4, Dim: 16, Heads: 2, MLP: 24, Depth: 2,
		Classes: 4, Variant: vit.Baseline}
	if len(tasks) > 0 {
		c.Tasks, c.Classes = tasks, 4*len(tasks)
	}
	return c
}

// adaModel is m's init plus noise of std scale, so every tensor (biases and
// LayerNorms included) differs between models.
func adaModel(t testing.TB, name string, c vit.Config, from *vit.Model, scale float64, seed uint64) *vit.Model {
	t.Helper()
	m, err := vit.NewModel(name, c)
	if err != nil {
		t.Fatal(err)
	}
	if from != nil {
		if err := m.CopyWeightsFrom(from); err != nil {
			t.Fatal(err)
		}
	} else {
		m.Init(seed)
	}
	rng := rand.New(rand.NewPCG(seed, 17))
	for _, p := range m.Params() {
		for i := range p.Data() {
			p.Data()[i] += float32(scale * rng.NormFloat64())
		}
	}
	return m
}

// adaPopulation is a base and k sources fine-tuned from it (noise), each with
// n noise images; with tasks, source i's task is tasks[i].
func adaPopulation(t testing.TB, k, n int, tasks []string) (*vit.Model, []Source) {
	t.Helper()
	c := adaConfig(tasks)
	base := adaModel(t, "base", c, nil, 0.3, 1)
	var srcs []Source
	for i := 0; i < k; i++ {
		m := adaModel(t, "src"+string(rune('a'+i)), c, base, 0.4, uint64(10+i))
		s := Source{Model: m, Data: synth.NoiseSplit(n, 1, 8, 8, 4, rand.New(rand.NewPCG(uint64(20+i), 3))), Norm: adaNorm}
		if tasks != nil {
			s.Task = tasks[i]
		}
		srcs = append(srcs, s)
	}
	return base, srcs
}

// TestAdaGradientMatchesFiniteDifferences compares dL/dlambda (the engine's
// weight gradient contracted with the task vectors) with central finite
// differences of the entropy loss, task-wise and block-wise, single- and
// multi-task.
func TestAdaGradientMatchesFiniteDifferences(t *testing.T) {
	for _, tc := range []struct {
		name      string
		blockWise bool
		tasks     []string
	}{{"task-wise", false, nil}, {"block-wise", true, nil}, {"block-wise multi-task", true, []string{"x", "y", "z"}}} {
		t.Run(tc.name, func(t *testing.T) {
			base, srcs := adaPopulation(t, 3, 6, tc.tasks)
			a, err := newAdaState("m", base, srcs, tc.blockWise)
			if err != nil {
				t.Fatal(err)
			}
			K := len(srcs)
			rng := rand.New(rand.NewPCG(3, 4))
			lambda := make([]float64, a.coefRows()*K)
			for i := range lambda {
				lambda[i] = 0.2 + 0.6*rng.Float64()
			}
			idx := [][]int{{0, 3, 5}, {1, 2, 4}, {5, 0, 1}}
			a.setWeights(lambda)
			_, grad, err := a.lossGrad(idx)
			if err != nil {
				t.Fatal(err)
			}
			loss := func() float64 {
				a.setWeights(lambda)
				l, _, err := a.lossGrad(idx)
				if err != nil {
					t.Fatal(err)
				}
				return l
			}
			const h = 3e-3 // the entropy of a peaked softmax curves fast: 1e-2 leaves a 3% truncation error
			for i := range lambda {
				orig := lambda[i]
				lambda[i] = orig + h
				up := loss()
				lambda[i] = orig - h
				down := loss()
				lambda[i] = orig
				num := (up - down) / (2 * h)
				if math.Abs(num-grad[i]) > 1e-3+2e-2*math.Abs(num) {
					t.Errorf("dL/dlambda[row %d, source %d]: analytic %.6g, finite difference %.6g", i/K, i%K, grad[i], num)
				}
			}
		})
	}
}

// TestAdaOneSourceAtOneIsThatSource: base + 1*(source - base) is the source.
func TestAdaOneSourceAtOneIsThatSource(t *testing.T) {
	for _, blockWise := range []bool{false, true} {
		base, srcs := adaPopulation(t, 1, 4, nil)
		a, err := newAdaState("m", base, srcs, blockWise)
		if err != nil {
			t.Fatal(err)
		}
		ones := make([]float64, a.coefRows())
		for i := range ones {
			ones[i] = 1
		}
		a.setWeights(ones)
		want := srcs[0].Model.Params()
		for i, p := range a.out.Params() {
			for j, v := range p.Data() {
				w := want[i].Data()[j]
				if math.Abs(float64(v-w)) > 1e-6*(1+math.Abs(float64(w))) {
					t.Fatalf("block-wise %v: %s[%d] is %g, the source's %g", blockWise, p.Name, j, v, w)
				}
			}
		}
	}
}

// TestAdaMergingDecreasesEntropy runs full-batch Adam on a tiny population:
// the entropy must fall, and the learned coefficients must score lower than
// the initial ones on the same images.
func TestAdaMergingDecreasesEntropy(t *testing.T) {
	for _, blockWise := range []bool{false, true} {
		base, srcs := adaPopulation(t, 3, 8, nil)
		var log bytes.Buffer
		_, res, err := AdaMerging("m", base, srcs, AdaOptions{BlockWise: blockWise, Steps: 10, Batch: 8, LR: 0.03, Seed: 5, Log: &log})
		if err != nil {
			t.Fatal(err)
		}
		first, last := res.Entropy[0], res.Entropy[len(res.Entropy)-1]
		t.Logf("block-wise %v: entropy %.5f -> %.5f, coefficients %v", blockWise, first, last, res.Coef)
		if !(last < first-1e-4) {
			t.Errorf("block-wise %v: entropy went from %.6f to %.6f", blockWise, first, last)
		}
		if len(res.Entropy) != 10 || len(res.Coef) != 4 || len(res.Coef[0]) != 3 || !strings.Contains(log.String(), "step 10/10") {
			t.Errorf("result has %d entropies, %d rows, log %q", len(res.Entropy), len(res.Coef), log.String())
		}
		if tab := res.Table(); len(tab.Rows) != 4 || tab.Rows[1][0] != "block 0" || len(tab.Header) != 4 {
			t.Errorf("coefficient table %v", tab)
		}
		for _, row := range res.Coef {
			for _, c := range row {
				if c < 0 || c > 1 {
					t.Errorf("coefficient %g outside [0, 1]", c)
				}
			}
		}
	}
}

// TestAdaMergingNeverReadsLabels: the merge is the same with the sources'
// labels, without them, and with garbage labels.
func TestAdaMergingNeverReadsLabels(t *testing.T) {
	run := func(labels func(s *dataset.Split)) (*vit.Model, *AdaResult) {
		base, srcs := adaPopulation(t, 2, 6, []string{"x", "y"})
		for _, s := range srcs {
			labels(s.Data)
		}
		m, res, err := AdaMerging("m", base, srcs, AdaOptions{BlockWise: true, Steps: 3, Batch: 4, LR: 0.05, Seed: 9})
		if err != nil {
			t.Fatal(err)
		}
		return m, res
	}
	m0, r0 := run(func(*dataset.Split) {})
	for name, labels := range map[string]func(s *dataset.Split){
		"nil":     func(s *dataset.Split) { s.Labels = nil },
		"garbage": func(s *dataset.Split) { s.Labels = bytes.Repeat([]byte{255}, s.N) },
	} {
		m, r := run(labels)
		if !equalCoef(r0.Coef, r.Coef) || !equalWeights(m0, m) {
			t.Errorf("labels %s change the merge: %v vs %v", name, r.Coef, r0.Coef)
		}
	}
}

// TestAdaMergingKeepsTaskHeads: a multi-task merge copies each task's head
// rows from its own source, whatever the coefficients.
func TestAdaMergingKeepsTaskHeads(t *testing.T) {
	base, srcs := adaPopulation(t, 2, 6, []string{"x", "y", "z"})
	m, _, err := AdaMerging("m", base, srcs, AdaOptions{Steps: 2, Batch: 4})
	if err != nil {
		t.Fatal(err)
	}
	w, per := m.Head.W.Data(), 4*m.Config.Dim
	for task, src := range []*vit.Model{srcs[0].Model, srcs[1].Model} {
		if got, want := w[task*per:(task+1)*per], src.Head.W.Data()[task*per:(task+1)*per]; !equalF32(got, want) {
			t.Errorf("task %d's head rows are not source %s's", task, src.Name)
		}
	}
	if equalF32(w[2*per:], srcs[0].Model.Head.W.Data()[2*per:]) || equalF32(w[2*per:], base.Head.W.Data()[2*per:]) {
		t.Error("the head rows of the task no source owns are not merged")
	}
}

// TestAdaMergingErrors: bad input is one error, not a panic.
func TestAdaMergingErrors(t *testing.T) {
	other := adaConfig(nil)
	other.Dim = 8
	cases := map[string]func(base **vit.Model, srcs []Source, o *AdaOptions){
		"no base":        func(b **vit.Model, _ []Source, _ *AdaOptions) { *b = nil },
		"init":           func(_ **vit.Model, _ []Source, o *AdaOptions) { o.Init = 1.5 },
		"lr":             func(_ **vit.Model, _ []Source, o *AdaOptions) { o.LR = math.NaN() },
		"steps":          func(_ **vit.Model, _ []Source, o *AdaOptions) { o.Steps = -1 },
		"no model":       func(_ **vit.Model, s []Source, _ *AdaOptions) { s[1].Model = nil },
		"no data":        func(_ **vit.Model, s []Source, _ *AdaOptions) { s[0].Data = nil },
		"image size":     func(_ **vit.Model, s []Source, _ *AdaOptions) { s[0].Data.W, s[0].Data.N = 4, 1 },
		"normalisation":  func(_ **vit.Model, s []Source, _ *AdaOptions) { s[1].Norm = dataset.Normalization{} },
		"unknown task":   func(_ **vit.Model, s []Source, _ *AdaOptions) { s[1].Task = "w" },
		"another shape":  func(_ **vit.Model, s []Source, _ *AdaOptions) { s[0].Model = adaModel(t, "o", other, nil, 0, 1) },
		"truncated data": func(_ **vit.Model, s []Source, _ *AdaOptions) { s[0].Data.Pixels = s[0].Data.Pixels[:10] },
	}
	for name, breakIt := range cases {
		base, srcs := adaPopulation(t, 2, 4, []string{"x", "y"})
		o := AdaOptions{Steps: 1}
		breakIt(&base, srcs, &o)
		if _, _, err := AdaMerging("m", base, srcs, o); err == nil {
			t.Errorf("%s: no error", name)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error of several lines: %v", name, err)
		}
	}
	if _, _, err := AdaMerging("m", nil, nil, AdaOptions{}); err == nil {
		t.Error("no sources: no error")
	}
}

func equalCoef(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func equalWeights(a, b *vit.Model) bool {
	pa, pb := a.Params(), b.Params()
	for i := range pa {
		if !equalF32(pa[i].Data(), pb[i].Data()) {
			return false
		}
	}
	return true
}

func equalF32(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
