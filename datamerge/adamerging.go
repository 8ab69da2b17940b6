package datamerge

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"

	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/vit"
)

// AdaOptions configures AdaMerging. Zero values take the defaults.
type AdaOptions struct {
	// BlockWise learns one coefficient per task vector and per part (the
	// stem, each block, the head: the paper's layer-wise AdaMerging) instead
	// of one per task vector.
	BlockWise bool
	// Steps of Adam (default 100, a few seconds on the default model; the
	// paper runs 500 on ViT-B/32). Adam moves a coefficient by at most about
	// LR per step, so Steps*LR bounds how far the coefficients travel from
	// Init: ±0.1 with the defaults; raise LR to search wider.
	Steps int
	// Batch is the number of images drawn from each source's data per step
	// (default 16, the paper's); one step runs len(sources)*Batch images.
	Batch int
	// LR is Adam's learning rate (default 1e-3, the paper's).
	LR float64
	// Init is every coefficient's starting value (default 0.3, the paper's);
	// it must lie in [0, 1], where the coefficients are kept.
	Init float64
	// Seed draws the batches.
	Seed uint64
	// Log, if set, receives one line every 10 steps and at the last.
	Log io.Writer
}

// Defaults of AdaOptions.
const (
	DefaultAdaSteps = 100
	DefaultAdaBatch = 16
	DefaultAdaLR    = 1e-3
	DefaultAdaInit  = 0.3
)

// AdaResult is what AdaMerging learned.
type AdaResult struct {
	BlockWise bool `json:"block_wise"`
	// Parts names the rows of Coef: "stem", "block 0", ..., "head".
	Parts []string `json:"parts"`
	// Sources names the columns of Coef: each source model, in order.
	Sources []string `json:"sources"`
	// Coef[l][k] is the coefficient of source k's task vector in part l.
	// A task-wise merge has one coefficient per source, repeated on every row.
	Coef [][]float64 `json:"coef"`
	// Entropy is the mean prediction entropy of each step's batch, before
	// the step's update.
	Entropy []float64 `json:"entropy"`
	// The options used, defaults filled in.
	Steps int     `json:"steps"`
	Batch int     `json:"batch"`
	LR    float64 `json:"lr"`
	Init  float64 `json:"init"`
	Seed  uint64  `json:"seed"`
}

// Table is the learned coefficients as a part x source table.
func (r *AdaResult) Table() *table.Table {
	mode := "task-wise"
	if r.BlockWise {
		mode = "block-wise"
	}
	t := &table.Table{Title: "AdaMerging coefficients (" + mode + ")", Header: append([]string{"part"}, r.Sources...)}
	for l, row := range r.Coef {
		cells := []string{r.Parts[l]}
		for _, c := range row {
			cells = append(cells, strconv.FormatFloat(c, 'f', 4, 64))
		}
		t.Add(cells...)
	}
	return t
}

// AdaMerging merges sources into base + sum_k lambda_k * (source_k - base)
// (block-wise: a lambda per source and per part), learning the lambdas as
// AdaMerging does (Yang et al., ICLR 2024): Adam on the mean Shannon entropy
// of the merged model's predictions on each source's unlabeled images, a
// proxy for the test loss that needs no label. The gradient with respect to
// lambda_{k,l} is the engine's gradient with respect to the merged weights of
// part l contracted with source k's task vector there. Coefficients stay in
// [0, 1], as in the paper. A multi-task model's image is scored on its own
// source's task head, and the head rows of a task are copied unmerged from the
// first source whose Task it is (as WeightMergeTasks keeps them). Labels of
// the sources' Data are never read. The result is named name, with base's
// config and its own blocks in sequential order.
func AdaMerging(name string, base *vit.Model, sources []Source, opt AdaOptions) (*vit.Model, *AdaResult, error) {
	opt, err := adaDefaults(opt)
	if err != nil {
		return nil, nil, err
	}
	a, err := newAdaState(name, base, sources, opt.BlockWise)
	if err != nil {
		return nil, nil, err
	}
	K, L := len(sources), a.coefRows()
	lambda := make([]float64, L*K) // [row][source]
	for i := range lambda {
		lambda[i] = opt.Init
	}
	res := &AdaResult{BlockWise: opt.BlockWise, Steps: opt.Steps, Batch: opt.Batch, LR: opt.LR, Init: opt.Init, Seed: opt.Seed}
	res.Parts = append(res.Parts, "stem")
	for i := range base.Blocks {
		res.Parts = append(res.Parts, fmt.Sprintf("block %d", i))
	}
	res.Parts = append(res.Parts, "head")
	for _, s := range sources {
		res.Sources = append(res.Sources, s.Model.Name)
	}

	// Adam as torch.optim.Adam with its default betas and eps, which the paper uses.
	const beta1, beta2, eps = 0.9, 0.999, 1e-8
	m1, m2 := make([]float64, len(lambda)), make([]float64, len(lambda))
	sampler := newAdaSampler(sources, opt.Batch, opt.Seed)
	for step := 1; step <= opt.Steps; step++ {
		a.setWeights(lambda)
		loss, grad, err := a.lossGrad(sampler.next())
		if err != nil {
			return nil, nil, fmt.Errorf("adamerging step %d: %w", step, err)
		}
		res.Entropy = append(res.Entropy, loss)
		c1, c2 := 1-math.Pow(beta1, float64(step)), 1-math.Pow(beta2, float64(step))
		for i, g := range grad {
			m1[i] = beta1*m1[i] + (1-beta1)*g
			m2[i] = beta2*m2[i] + (1-beta2)*g*g
			lambda[i] -= opt.LR * (m1[i] / c1) / (math.Sqrt(m2[i]/c2) + eps)
			lambda[i] = min(1, max(0, lambda[i]))
		}
		if opt.Log != nil && (step%10 == 0 || step == opt.Steps) {
			fmt.Fprintf(opt.Log, "adamerging step %d/%d: entropy %.4f\n", step, opt.Steps, loss)
		}
	}
	a.setWeights(lambda)
	for _, p := range a.params {
		p.ZeroGrad() // the last step's gradients mean nothing to the caller
	}
	for l := range res.Parts {
		row := make([]float64, K)
		copy(row, lambda[a.rowOf(l)*K:])
		res.Coef = append(res.Coef, row)
	}
	a.out.Name = name
	return a.out, res, nil
}

// adaDefaults fills in the defaults and rejects options that cannot run.
func adaDefaults(o AdaOptions) (AdaOptions, error) {
	if o.Steps < 0 || o.Batch < 0 {
		return o, fmt.Errorf("adamerging: steps %d and batch %d must not be negative", o.Steps, o.Batch)
	}
	if math.IsNaN(o.LR) || math.IsInf(o.LR, 0) || o.LR < 0 {
		return o, fmt.Errorf("adamerging: learning rate %v must be a positive number", o.LR)
	}
	if math.IsNaN(o.Init) || o.Init < 0 || o.Init > 1 {
		return o, fmt.Errorf("adamerging: initial coefficient %v is outside [0, 1]", o.Init)
	}
	if o.Steps == 0 {
		o.Steps = DefaultAdaSteps
	}
	if o.Batch == 0 {
		o.Batch = DefaultAdaBatch
	}
	if o.LR == 0 {
		o.LR = DefaultAdaLR
	}
	if o.Init == 0 {
		o.Init = DefaultAdaInit
	}
	return o, nil
}

// adaState is the merged model and what its weights are made of: per
// parameter of out (in Params order), the base (with each source-owned task
// head's rows replaced by the owner's, so they do not depend on lambda) and
// every source's task vector (zero on those rows).
type adaState struct {
	out       *vit.Model
	plan      vit.Plan
	params    []*vit.Param
	part      []int // part of each parameter: 0 stem, 1+i block i, depth+1 head
	base      [][]float32
	tau       [][][]float32 // [source][param]
	blockWise bool
	depth     int
	sources   []Source
	task      []int32 // each source's task index (nil for a single-task model)
	ar        vit.Arena
	x         []float32
}

func newAdaState(name string, base *vit.Model, sources []Source, blockWise bool) (*adaState, error) {
	if base == nil {
		return nil, errors.New("adamerging needs a base model: the task vectors are source - base")
	}
	if len(sources) == 0 {
		return nil, errors.New("adamerging needs at least one source")
	}
	cfg := base.Config
	a := &adaState{blockWise: blockWise, depth: len(base.Blocks), sources: sources}
	for k, s := range sources {
		if s.Model == nil {
			return nil, fmt.Errorf("adamerging: source %d has no model", k+1)
		}
		if err := vit.SameShapes(base, s.Model); err != nil {
			return nil, fmt.Errorf("adamerging: source %s does not match the base: %v", s.Model.Name, err)
		}
		d := s.Data
		if d == nil || d.N == 0 {
			return nil, fmt.Errorf("adamerging: source %s has no images", s.Model.Name)
		}
		if d.C != cfg.Channels || d.H != cfg.ImageHeight || d.W != cfg.ImageWidth {
			return nil, fmt.Errorf("adamerging: source %s's images are %dx%dx%d, the model takes %dx%dx%d",
				s.Model.Name, d.C, d.H, d.W, cfg.Channels, cfg.ImageHeight, cfg.ImageWidth)
		}
		if !d.Lazy() && len(d.Pixels) < d.N*d.ImageSize() {
			return nil, fmt.Errorf("adamerging: source %s's data has %d bytes for %d images", s.Model.Name, len(d.Pixels), d.N)
		}
		if len(s.Norm.Mean) < d.C || len(s.Norm.Std) < d.C {
			return nil, fmt.Errorf("adamerging: source %s's normalisation has %d/%d channels, its images %d", s.Model.Name, len(s.Norm.Mean), len(s.Norm.Std), d.C)
		}
		if len(cfg.Tasks) > 0 {
			t := cfg.TaskIndex(s.Task)
			if t < 0 {
				return nil, fmt.Errorf("adamerging: source %s's task %q is not one of the model's tasks %v", s.Model.Name, s.Task, cfg.Tasks)
			}
			a.task = append(a.task, int32(t))
		}
	}
	out, err := vit.NewModel(name, cfg)
	if err != nil {
		return nil, fmt.Errorf("adamerging: %v", err)
	}
	if err := vit.SameShapes(out, base); err != nil {
		return nil, fmt.Errorf("adamerging: the base's blocks differ from its config's: %v", err)
	}
	a.out, a.plan = out, out.Sequential()
	a.params = out.Params()
	for range out.Stem.Params() {
		a.part = append(a.part, 0)
	}
	for i, b := range out.Blocks {
		for range b.Params() {
			a.part = append(a.part, 1+i)
		}
	}
	for range out.Head.Params() {
		a.part = append(a.part, a.depth+1)
	}
	bp := base.Params()
	for i := range bp {
		a.base = append(a.base, append([]float32(nil), bp[i].Data()...))
	}
	a.tau = make([][][]float32, len(sources))
	for k, s := range sources {
		sp := s.Model.Params()
		for i := range sp {
			t := make([]float32, len(bp[i].Data()))
			for j, v := range sp[i].Data() {
				t[j] = v - bp[i].Data()[j]
			}
			a.tau[k] = append(a.tau[k], t)
		}
	}
	a.keepTaskHeads(base)
	return a, nil
}

// keepTaskHeads makes each task's classifier rows the first owning source's:
// a task head is trained by its source alone, so merging it would only
// dilute it (the paper keeps task-specific heads too).
func (a *adaState) keepTaskHeads(base *vit.Model) {
	cfg := base.Config
	if len(cfg.Tasks) == 0 {
		return
	}
	C := cfg.ClassesPerTask()
	for i, p := range a.params {
		if a.part[i] != a.depth+1 || (p.Name != "head.weight" && p.Name != "head.bias") {
			continue
		}
		width := len(p.Data()) / cfg.Classes
		for t := range cfg.Tasks {
			owner := -1
			for k, task := range a.task {
				if int(task) == t {
					owner = k
					break
				}
			}
			if owner < 0 {
				continue
			}
			lo, hi := t*C*width, (t+1)*C*width
			for j := lo; j < hi; j++ {
				a.base[i][j] += a.tau[owner][i][j]
			}
			for k := range a.tau {
				clear(a.tau[k][i][lo:hi])
			}
		}
	}
}

// coefRows is the number of coefficient rows: 1 task-wise, else one per part.
func (a *adaState) coefRows() int {
	if a.blockWise {
		return a.depth + 2
	}
	return 1
}

// rowOf is the coefficient row of part l.
func (a *adaState) rowOf(l int) int {
	if a.blockWise {
		return l
	}
	return 0
}

// setWeights writes base + sum_k lambda[row][k] * tau_k into out.
func (a *adaState) setWeights(lambda []float64) {
	K := len(a.tau)
	for i, p := range a.params {
		dst := p.Data()
		copy(dst, a.base[i])
		lam := lambda[a.rowOf(a.part[i])*K:]
		for k := 0; k < K; k++ {
			c := float32(lam[k])
			for j, t := range a.tau[k][i] {
				dst[j] += c * t
			}
		}
	}
}

// lossGrad runs the merged model on the images idx[k] of each source k and
// returns the mean entropy and its gradient with respect to every
// coefficient: dL/dlambda_{k,row} = sum over the row's parameters of
// <dL/dtheta, tau_k>.
func (a *adaState) lossGrad(idx [][]int) (float64, []float64, error) {
	B := 0
	for _, ix := range idx {
		B += len(ix)
	}
	size := a.out.Config.ImageSize()
	if cap(a.x) < B*size {
		a.x = make([]float32, B*size)
	}
	x := a.x[:B*size]
	var tasks []int32
	if a.task != nil {
		tasks = make([]int32, 0, B)
	}
	off := 0
	for k, ix := range idx {
		s := a.sources[k]
		if err := s.Data.Fill(x[off*size:(off+len(ix))*size], nil, ix, s.Norm, nil, nil); err != nil { // nil: labels are not read
			return 0, nil, err
		}
		for range ix {
			if a.task != nil {
				tasks = append(tasks, a.task[k])
			}
		}
		off += len(ix)
	}
	for _, p := range a.params {
		p.ZeroGrad()
	}
	st, err := a.out.ForwardEntropy(x, tasks, B, []vit.Plan{a.plan}, &a.ar)
	if err != nil {
		return 0, nil, err
	}
	if err := st.Backward(); err != nil {
		return 0, nil, err
	}
	K := len(a.tau)
	grad := make([]float64, a.coefRows()*K)
	for i, p := range a.params {
		g := grad[a.rowOf(a.part[i])*K:]
		for k := 0; k < K; k++ {
			var dot float64
			for j, t := range a.tau[k][i] {
				dot += float64(p.Grad[j]) * float64(t)
			}
			g[k] += dot
		}
	}
	return float64(st.Loss()), grad, nil
}

// adaSampler draws each step's images: every source walks through its own
// seeded permutation of its images, reshuffled when used up, so a step sees
// min(Batch, N) distinct images of each task.
type adaSampler struct {
	rng   *rand.Rand
	batch int
	n     []int
	perm  [][]int
	pos   []int
}

func newAdaSampler(sources []Source, batch int, seed uint64) *adaSampler {
	s := &adaSampler{rng: rand.New(rand.NewPCG(seed, 0xada)), batch: batch}
	for _, src := range sources {
		s.n = append(s.n, src.Data.N)
		s.perm = append(s.perm, nil)
		s.pos = append(s.pos, 0)
	}
	return s
}

func (s *adaSampler) next() [][]int {
	out := make([][]int, len(s.n))
	for k, n := range s.n {
		b := min(s.batch, n)
		if s.perm[k] == nil || s.pos[k]+b > n {
			s.perm[k], s.pos[k] = s.rng.Perm(n), 0
		}
		out[k] = s.perm[k][s.pos[k] : s.pos[k]+b]
		s.pos[k] += b
	}
	return out
}
