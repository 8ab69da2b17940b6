package speed

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/table"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
	"github.com/frankenvit/frankenvit/vit/kernels"
)

// TorchSpeedScript is speed/torch_speed.py, the PyTorch peer benchmark. It is
// embedded so that the peer runs from any working directory.
//
//go:embed torch_speed.py
var TorchSpeedScript []byte

// DefaultPython is Debian's interpreter, the one python3-torch installs into
// (not whichever python3 comes first on PATH).
const DefaultPython = "/usr/bin/python3"

// SpeedModel is one model of the speed benchmark.
type SpeedModel struct {
	Name   string     `json:"name"`
	Config vit.Config `json:"config"`
	Batch  int        `json:"batch"`
	// EvalImages is how many images the inference measurement evaluates
	// unless --eval-images says otherwise.
	EvalImages int `json:"eval_images"`
}

// SpeedModels are the two models `bench speed` measures: the default model of
// design.md and a larger one (ViT-Tiny widths with patch 4 on 28x28), both
// trained with LayerShuffle (a random block order per batch) at batch 64.
// Inference evaluates 10,000 images on the default model (the issue's "10,000
// images under one plan" target) and 2,560 (10 batches) on the larger one,
// which runs at about 100 images/s.
func SpeedModels() []SpeedModel {
	def := vit.DefaultConfig()
	def.Variant = vit.Shuffle
	large := vit.Config{ImageHeight: 28, ImageWidth: 28, Channels: 1, Patch: 4, Dim: 192, Heads: 3, MLP: 768,
		Depth: 12, Classes: 10, Variant: vit.Shuffle}
	return []SpeedModel{{Name: "default", Config: def, Batch: 64, EvalImages: 10000},
		{Name: "large", Config: large, Batch: 64, EvalImages: 2560}}
}

// FLOPs counts the floating-point operations of one image's forward pass,
// term by term (a multiply-add is 2 FLOPs). With N = (H/P)(W/P) patches,
// T = N+1 tokens, width D, MLP width M, depth L, K classes and C channels:
//
//	patch embedding       2·N·(C·P²)·D
//	per block, L times:
//	  qkv                 2·T·D·3D
//	  attention scores    2·T·T·D      (Q·Kᵀ, all heads: heads·T·T·(D/heads))
//	  weighted sum        2·T·T·D      (softmax(S)·V)
//	  proj                2·T·D·D
//	  fc1                 2·T·D·M
//	  fc2                 2·T·M·D
//	head                  2·D·K        (class token only)
//
// so forward = 2NCP²D + L·(8TD² + 4TDM + 4T²D) + 2DK. LayerNorm, softmax,
// GELU, biases and residual adds are O(T·D) per block and not counted.
// Training counts 3x forward (the backward pass is two GEMMs per forward
// GEMM: the input gradient and the weight gradient).
type FLOPs struct {
	PatchEmbed int64 `json:"patch_embed"`
	QKV        int64 `json:"qkv"`
	Scores     int64 `json:"attention_scores"`
	Weighted   int64 `json:"attention_weighted_sum"`
	Proj       int64 `json:"proj"`
	FC1        int64 `json:"fc1"`
	FC2        int64 `json:"fc2"`
	Head       int64 `json:"head"`
}

// CountFLOPs returns the per-image forward FLOPs of c, by term (block terms
// summed over the depth).
func CountFLOPs(c vit.Config) FLOPs {
	N, T := int64(c.Patches()), int64(c.Tokens())
	D, M, L := int64(c.Dim), int64(c.MLP), int64(c.Depth)
	return FLOPs{
		PatchEmbed: 2 * N * int64(c.PatchSize()) * D,
		QKV:        L * 2 * T * D * 3 * D,
		Scores:     L * 2 * T * T * D,
		Weighted:   L * 2 * T * T * D,
		Proj:       L * 2 * T * D * D,
		FC1:        L * 2 * T * D * M,
		FC2:        L * 2 * T * M * D,
		Head:       2 * D * int64(c.Classes),
	}
}

// Forward is the total forward FLOPs of one image.
func (f FLOPs) Forward() int64 {
	return f.PatchEmbed + f.QKV + f.Scores + f.Weighted + f.Proj + f.FC1 + f.FC2 + f.Head
}

// Train is the FLOPs of one training image: forward + backward ≈ 3x forward.
func (f FLOPs) Train() int64 { return 3 * f.Forward() }

// SpeedRun says what one measurement does: train Steps timed steps (after
// Warmup untimed ones) at Batch on synthetic data, then evaluate EvalImages
// synthetic images under one plan in batches of EvalBatch.
type SpeedRun struct {
	Model      SpeedModel `json:"model"`
	Steps      int        `json:"steps"`
	Warmup     int        `json:"warmup"`
	EvalImages int        `json:"eval_images"`
	EvalBatch  int        `json:"eval_batch"`
	Seed       uint64     `json:"seed"`
}

// Measurement is one row of the speed table: one engine configuration on one model.
type Measurement struct {
	Model   string `json:"model"`
	Engine  string `json:"engine"`            // "frankenvit" or "torch"
	Version string `json:"version"`           // kernel implementation or torch version
	BLAS    string `json:"blas"`              // peer: the BLAS asked for ("reference", "openblas"); "-" for frankenvit
	Library string `json:"blas_library"`      // peer: the libblas.so.3 the process mapped
	Threads int    `json:"threads"`           // GOMAXPROCS, or torch threads (and OpenBLAS/OpenMP threads)
	Skipped string `json:"skipped,omitempty"` // why the configuration did not run (e.g. its BLAS is not installed)
	// Failed is why a peer configuration that ran gave no numbers: its
	// process timed out, crashed or printed no result (one line).
	Failed string `json:"failed,omitempty"`
	// Env is the peer's thread and BLAS environment as the script saw it.
	Env map[string]string `json:"env,omitempty"`

	// TrainSteps and EvalImages are what was timed: fewer than asked when a
	// peer configuration ran out of its time budget.
	TrainSteps        int     `json:"train_steps"`
	TrainImages       int     `json:"train_images"`
	TrainSeconds      float64 `json:"train_seconds"`
	TrainImagesPerSec float64 `json:"train_images_per_sec"`
	EvalImages        int     `json:"eval_images"`
	EvalSeconds       float64 `json:"eval_seconds"`
	InferImagesPerSec float64 `json:"infer_images_per_sec"`
	// Eval10kSeconds is the time to evaluate 10,000 images under one plan,
	// scaled from EvalSeconds when EvalImages is not 10,000.
	Eval10kSeconds float64 `json:"eval_10k_seconds"`
	FinalLoss      float64 `json:"final_loss"`

	TrainGFLOPS float64 `json:"train_gflops"`
	InferGFLOPS float64 `json:"infer_gflops"`
	// Fractions of the report's peak (the FMA peak; the GEMM peak where
	// there is no assembly FMA loop).
	TrainPeak float64 `json:"train_fraction_of_peak"`
	InferPeak float64 `json:"infer_fraction_of_peak"`

	// Resident set of the process that measured this row (each row runs in a
	// fresh process): VmRSS before the model is built, VmHWM after training,
	// VmHWM at the end.
	RSSBaseMB  float64 `json:"rss_base_mb"`
	RSSTrainMB float64 `json:"rss_train_peak_mb"`
	RSSPeakMB  float64 `json:"rss_peak_mb"`
	// GoHeapMB is the Go heap in use at the end of training (frankenvit only).
	GoHeapMB float64 `json:"go_heap_mb,omitempty"`

	// TrainVs and InferVs: on a frankenvit row, frankenvit ÷ the best peer
	// configuration of that model; on a peer row, frankenvit ÷ that row.
	TrainVs   float64 `json:"train_frankenvit_over,omitempty"`
	InferVs   float64 `json:"infer_frankenvit_over,omitempty"`
	BestTrain bool    `json:"best_peer_train,omitempty"`
	BestInfer bool    `json:"best_peer_infer,omitempty"`
}

// GemmPeak is the best GFLOP/s of kernels.Gemm on a square problem using all cores.
type GemmPeak struct {
	Size    int     `json:"size"`
	Reps    int     `json:"reps"`
	Threads int     `json:"threads"`
	GFLOPS  float64 `json:"gflops"`
	Kernels string  `json:"kernels"`
}

// MeasureGemmPeak times C = A·B on n×n×n float32 matrices with kernels.Gemm
// (all GOMAXPROCS goroutines), once untimed and then reps times, and returns
// the best rate: what our GEMM reaches on a large problem, out of cache. It
// stands in for the peak only where kernels.FMAPeak cannot measure (no
// assembly FMA loop).
func MeasureGemmPeak(n, reps int) GemmPeak {
	if reps < 1 {
		reps = 1
	}
	rng := rand.New(rand.NewPCG(3, 4))
	a, b, c := make([]float32, n*n), make([]float32, n*n), make([]float32, n*n)
	for i := range a {
		a[i], b[i] = rng.Float32()-0.5, rng.Float32()-0.5
	}
	kernels.Gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
	best := math.Inf(1)
	for r := 0; r < reps; r++ {
		t := time.Now()
		kernels.Gemm(false, false, n, n, n, 1, a, n, b, n, 0, c, n)
		best = min(best, time.Since(t).Seconds())
	}
	return GemmPeak{Size: n, Reps: reps, Threads: runtime.GOMAXPROCS(0),
		GFLOPS: 2 * float64(n) * float64(n) * float64(n) / best / 1e9, Kernels: kernels.Implementation()}
}

// procStatusMB reads a "VmHWM"/"VmRSS" line of /proc/self/status in MB (0
// where /proc is not available).
func procStatusMB(field string) float64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), field+":")
		if !ok {
			continue
		}
		fs := strings.Fields(rest)
		if len(fs) == 0 {
			return 0
		}
		kb, _ := strconv.ParseFloat(fs[0], 64)
		return kb / 1024
	}
	return 0
}

// MeasureFrankenvit trains and evaluates one model in this process, the way
// `frankenvit train` and `frankenvit eval` do: each training step is one
// trainer.Stepper step (a fresh random block order, forward and backward in
// shards, ClipGradNorm(1), AdamW); evaluation runs trainer.Evaluator (the tape-free
// vit.Runner, batches of trainer.EvalBatch) over synthetic 8-bit images under
// the sequential plan. The resident-set fields describe this whole process,
// so call it in a fresh process for a clean number.
func MeasureFrankenvit(run SpeedRun) (Measurement, error) {
	if err := run.check(); err != nil {
		return Measurement{}, err
	}
	c, B := run.Model.Config, run.Model.Batch
	out := Measurement{Model: run.Model.Name, Engine: "frankenvit", Version: kernels.Implementation(), BLAS: "-",
		Threads: runtime.GOMAXPROCS(0), RSSBaseMB: procStatusMB("VmRSS")}
	m, err := vit.NewModel(run.Model.Name, c)
	if err != nil {
		return out, err
	}
	m.Init(run.Seed)
	rng := rand.New(rand.NewPCG(run.Seed, 2))
	// Two synthetic batches used in turn.
	var xs [2][]float32
	var ys [2][]int32
	for i := range xs {
		xs[i] = make([]float32, B*c.ImageSize())
		for j := range xs[i] {
			xs[i][j] = float32(rng.NormFloat64())
		}
		ys[i] = make([]int32, B)
		for j := range ys[i] {
			ys[i][j] = int32(rng.IntN(c.Classes))
		}
	}
	stepper := trainer.NewStepper(m, 0.05, 1, 1)
	sampler := trainer.OrderSampler{Variant: c.Variant, Depth: c.Depth}
	var loss float32
	step := func(i int) error {
		plans := make([]vit.Plan, 0, 1)
		for _, idx := range sampler.Draw(rng, B) {
			p, err := m.PlanOf(idx)
			if err != nil {
				return err
			}
			plans = append(plans, p)
		}
		st, err := stepper.Step(xs[i%2], ys[i%2], B, plans, 1e-3)
		loss = float32(st.Loss)
		return err
	}
	for i := 0; i < run.Warmup; i++ {
		if err := step(i); err != nil {
			return out, err
		}
	}
	t := time.Now()
	for i := 0; i < run.Steps; i++ {
		if err := step(i); err != nil {
			return out, err
		}
	}
	out.TrainSeconds = time.Since(t).Seconds()
	out.TrainSteps, out.TrainImages = run.Steps, run.Steps*B
	out.FinalLoss = float64(loss)
	out.RSSTrainMB = procStatusMB("VmHWM")
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	out.GoHeapMB = float64(ms.HeapInuse) / (1 << 20)

	// Evaluation: synthetic 8-bit images through the program's own evaluator.
	split := func(n int) *dataset.Split {
		return synth.NoiseSplit(n, c.Channels, c.ImageHeight, c.ImageWidth, c.Classes, rng)
	}
	norm := dataset.Normalization{Mean: make([]float32, c.Channels), Std: make([]float32, c.Channels)}
	for i := range norm.Mean {
		norm.Mean[i], norm.Std[i] = 0.13, 0.31
	}
	ev := trainer.NewEvaluator(m, split(min(run.EvalBatch, run.EvalImages)), norm)
	ev.Accuracy(m.Sequential()) // warm-up: the runner sizes its buffers
	ev.Split = split(run.EvalImages)
	t = time.Now()
	ev.Accuracy(m.Sequential())
	out.EvalSeconds = time.Since(t).Seconds()
	out.EvalImages = run.EvalImages
	// The kernel syncs its per-thread RSS counters lazily, so a later VmHWM
	// read can come out a little lower; the process's peak is at least the
	// training peak.
	out.RSSPeakMB = max(out.RSSTrainMB, procStatusMB("VmHWM"))
	return out, nil
}

func (r SpeedRun) check() error {
	switch {
	case r.Steps < 1:
		return fmt.Errorf("--steps must be at least 1, got %d", r.Steps)
	case r.Warmup < 0:
		return fmt.Errorf("--warmup must not be negative, got %d", r.Warmup)
	case r.EvalImages < 1:
		return fmt.Errorf("--eval-images must be at least 1, got %d", r.EvalImages)
	case r.EvalBatch < 1:
		return fmt.Errorf("eval batch must be at least 1, got %d", r.EvalBatch)
	case r.Model.Batch < 1:
		return fmt.Errorf("batch must be at least 1, got %d", r.Model.Batch)
	}
	return r.Model.Config.Validate()
}

// Measurer measures the frankenvit row of one model. A measurer that runs a
// child process kills it after timeout (0: no limit) and then fails with
// one line; one that measures in this process cannot be stopped and ignores
// it.
type Measurer func(run SpeedRun, timeout time.Duration) (Measurement, error)

// ChildFlag is the hidden flag of `frankenvit bench speed` that makes the
// process measure one SpeedRun (given as JSON) and print the Measurement as
// JSON, for ExecMeasurer.
const ChildFlag = "child"

// ExecMeasurer measures each model in a fresh child process, `exe args...
// --child RUN-JSON`, so that every row's peak resident set (VmHWM) is that
// model's own. The child must print one Measurement as JSON on stdout. A
// child that runs past its timeout is killed with its process group; a
// failing child's error is one line: "frankenvit child (default): timed out
// after 2m0s", or its exit status and its stderr's panic or last line.
func ExecMeasurer(exe string, args ...string) Measurer {
	return func(run SpeedRun, timeout time.Duration) (Measurement, error) {
		spec, err := json.Marshal(run)
		if err != nil {
			return Measurement{}, err
		}
		name := fmt.Sprintf("frankenvit child (%s)", run.Model.Name)
		out, err := runChild(name, timeout, exe, append(append([]string(nil), args...), "--"+ChildFlag, string(spec)), nil)
		if err != nil {
			return Measurement{}, err
		}
		var m Measurement
		if err := json.Unmarshal(bytes.TrimSpace(out), &m); err != nil {
			return Measurement{}, &ChildError{Child: name, Reason: "printed no measurement: " + oneLine(err.Error())}
		}
		return m, nil
	}
}

// ChildError is the failure of a child process in one line: the child (what
// it measures) and the reason.
type ChildError struct {
	Child  string // e.g. "torch peer (default, openblas, 2 threads)"
	Reason string // "timed out after 1m0s", or "exit status 1: <the child's last stderr line>"
}

func (e *ChildError) Error() string { return e.Child + ": " + e.Reason }

// ErrChildTimeout is wrapped by a ChildError of a child killed at its timeout.
var ErrChildTimeout = errors.New("child process timed out")

// Is makes errors.Is(err, ErrChildTimeout) find a timed-out child.
func (e *ChildError) Is(target error) bool {
	return target == ErrChildTimeout && strings.HasPrefix(e.Reason, "timed out after ")
}

// childWaitDelay is how long a killed or finished child's output pipes may
// stay open (held by a process that escaped its group) before Wait gives up.
const childWaitDelay = 5 * time.Second

// runChild runs path with args (env nil: this process's environment) in a
// process group of its own and returns its stdout. After timeout (0: none)
// the whole group is killed; the child also gets SIGKILL if this process
// dies first (Pdeathsig), so a child never outlives the benchmark. Any
// failure is a *ChildError of one line naming the child.
func runChild(name string, timeout time.Duration, path string, args, env []string) ([]byte, error) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = childWaitDelay
	var stdout bytes.Buffer
	var stderr headTail
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err == nil {
		return stdout.Bytes(), nil
	}
	if timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return nil, &ChildError{Child: name, Reason: "timed out after " + timeout.String()}
	}
	reason := oneLine(err.Error())
	if line := stderr.reason(); line != "" {
		reason += ": " + line
	}
	return nil, &ChildError{Child: name, Reason: reason}
}

// headTail keeps the first and the last 32 KiB of a child's stderr: enough
// for the line that says what went wrong, whatever the child prints.
type headTail struct {
	head, tail []byte
	dropped    bool // bytes between head and tail were dropped
}

const headTailMax = 32 << 10

func (h *headTail) Write(p []byte) (int, error) {
	n := len(p)
	if room := headTailMax - len(h.head); room > 0 {
		k := min(room, len(p))
		h.head, p = append(h.head, p[:k]...), p[k:]
	}
	h.tail = append(h.tail, p...)
	if over := len(h.tail) - headTailMax; over > 0 {
		h.tail = h.tail[:copy(h.tail, h.tail[over:])]
		h.dropped = true
	}
	return n, nil
}

// reason picks the line of a child's stderr that says what went wrong: a
// Go runtime's "panic: ..." or "fatal error: ..." line (the goroutine dump
// after it says little), else the last non-empty line (a Python traceback
// ends with the exception).
func (h *headTail) reason() string {
	all := string(h.head)
	if !h.dropped {
		all += string(h.tail)
	}
	for _, line := range strings.Split(all, "\n") {
		if strings.HasPrefix(line, "panic: ") || strings.HasPrefix(line, "fatal error: ") {
			return oneLine(line)
		}
	}
	last := strings.TrimSpace(string(h.head) + string(h.tail))
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	return oneLine(last)
}

// oneLine makes s one printable line of at most 240 characters.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, strings.TrimSpace(s))
	if r := []rune(s); len(r) > 240 {
		s = string(r[:240]) + "…"
	}
	return s
}

// Child time limits. A child is killed when it runs past what its work
// would take at a rate far below any measured one, plus childStartup for
// starting the process (importing torch takes seconds): frankenvit trains
// the speed models at 60-90 GFLOP/s on 2 cores (README), PyTorch with the
// reference BLAS at about 3 GFLOP/s, the slowest configuration measured.
const (
	childStartup    = time.Minute
	floorFrankenvit = 2.0             // GFLOP/s granted to a frankenvit child
	floorPeer       = 0.5             // GFLOP/s granted to a torch peer
	importTimeout   = 2 * time.Minute // `python3 -c "import torch"`
	dpkgTimeout     = 30 * time.Second
)

// atRate is the time work FLOPs take at gflops GFLOP/s.
func atRate(work float64, gflops float64) time.Duration {
	return time.Duration(work / (gflops * 1e9) * float64(time.Second))
}

// runWork is the FLOPs of a whole run: warm-up and timed training steps,
// the evaluation warm-up batch and the evaluation images.
func runWork(run SpeedRun) float64 {
	f := CountFLOPs(run.Model.Config)
	steps := float64(run.Warmup + run.Steps)
	return steps*float64(run.Model.Batch)*float64(f.Train()) + float64(run.EvalImages+run.EvalBatch)*float64(f.Forward())
}

// FrankenvitTimeout is the time limit of the child measuring run:
// childStartup plus the whole run at 2 GFLOP/s, rounded up to a second.
func FrankenvitTimeout(run SpeedRun) time.Duration {
	return (childStartup + atRate(runWork(run), floorFrankenvit)).Round(time.Second) + time.Second
}

// PeerTimeout is the time limit of the torch peer measuring run with
// budget per timed phase (0: none): childStartup plus the lesser of the
// whole run at 0.5 GFLOP/s and what the budget lets the script do. With a
// budget the script stops warming up after budget/4 and training and
// evaluating after budget each, each phase past its cap by at most one
// step or batch (and evaluation warms up on one batch first): 2.25 budgets
// plus two steps and two batches at 0.5 GFLOP/s.
func PeerTimeout(run SpeedRun, budget time.Duration) time.Duration {
	d := atRate(runWork(run), floorPeer)
	if budget > 0 {
		f := CountFLOPs(run.Model.Config)
		over := 2*float64(run.Model.Batch)*float64(f.Train()) + 2*float64(run.EvalBatch)*float64(f.Forward())
		d = min(d, 9*budget/4+atRate(over, floorPeer))
	}
	return (childStartup + d).Round(time.Second) + time.Second
}

// SpeedOptions configures Speed.
type SpeedOptions struct {
	Models     []string // names from SpeedModels; empty = all
	Steps      int      // timed training steps per model
	Warmup     int      // untimed training steps before them
	EvalImages int      // images evaluated under one plan per model (0: the model's own EvalImages)
	GemmSize   int      // n of the n×n×n GEMM-peak problem
	GemmReps   int
	Seed       uint64

	Peer        string   // "" or "torch"
	Python      string   // interpreter of the peer (default DefaultPython)
	PeerThreads []int    // torch thread counts (default 1, 2)
	PeerBLAS    []string // "reference", "openblas" (default both)
	// PeerBudget caps each timed phase of one peer configuration (0: none);
	// a configuration that hits it is measured over the steps and images
	// that ran, and the table says so. The peer's process is killed at
	// PeerTimeout (derived from the budget) should it not stop by itself.
	PeerBudget time.Duration
	// PeerLibs is the folder of each BLAS's libblas.so.3 by kind
	// ("reference", "openblas"); a kind not given is looked up in dpkg's file
	// list, then in /usr/lib/*/blas or /usr/lib/*/openblas-pthread.
	PeerLibs map[string]string

	// ChildTimeout, if positive, is the time limit of every child process
	// (frankenvit's measuring children and the torch peers); 0 derives each
	// child's limit from its work (FrankenvitTimeout, PeerTimeout).
	ChildTimeout time.Duration

	// Measure measures the frankenvit rows; nil measures in this process
	// (which no time limit can stop).
	Measure Measurer
	// Log, if set, is told what runs (one line per measurement).
	Log io.Writer
}

// DefaultSpeedOptions are the settings of `frankenvit bench speed`.
func DefaultSpeedOptions() SpeedOptions {
	return SpeedOptions{Steps: 20, Warmup: 3, GemmSize: 2048, GemmReps: 5, Seed: 1,
		Python: DefaultPython, PeerThreads: []int{1, 2}, PeerBLAS: []string{"reference", "openblas"}, PeerBudget: time.Minute}
}

// SpeedModelInfo is what a report says about one model: its run and its
// FLOP count per image.
type SpeedModelInfo struct {
	Run     SpeedRun `json:"run"`
	Forward int64    `json:"forward_flops_per_image"`
	Train   int64    `json:"train_flops_per_image"`
	Terms   FLOPs    `json:"forward_terms"`
}

// SpeedReport is the result of `frankenvit bench speed`.
type SpeedReport struct {
	GemmPeak GemmPeak `json:"gemm_peak"`
	// FMAPeak is kernels.FMAPeak on all GOMAXPROCS threads (0: not
	// measurable in this build); Peak is the denominator of the rows'
	// fractions: FMAPeak, or the GEMM peak when FMAPeak is 0.
	FMAPeak    float64           `json:"fma_peak_gflops"`
	Peak       float64           `json:"peak_gflops"`
	GOMAXPROCS int               `json:"gomaxprocs"`
	NumCPU     int               `json:"num_cpu"`
	Steps      int               `json:"steps"`
	Warmup     int               `json:"warmup"`
	EvalBatch  int               `json:"eval_batch"`
	Peer       string            `json:"peer,omitempty"`
	PeerBudget float64           `json:"peer_budget_seconds,omitempty"` // per timed phase of a peer configuration
	Isolation  string            `json:"isolation"`
	Models     []SpeedModelInfo  `json:"models"`
	Env        map[string]string `json:"env"` // OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE, ... as found
	Notes      []string          `json:"notes,omitempty"`
	Rows       []Measurement     `json:"rows"`
}

// ReportedEnv lists the environment variables the report records (they change
// OpenBLAS's kernel choice or thread count); Speed passes them on unchanged.
var ReportedEnv = []string{"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMAXPROCS"}

// Speed runs the speed benchmark: the FMA and GEMM peaks first, then per model the
// frankenvit row and, with Peer "torch", one row per BLAS × thread count.
func Speed(o SpeedOptions) (*SpeedReport, error) {
	d := DefaultSpeedOptions()
	if o.Python == "" {
		o.Python = d.Python
	}
	if len(o.PeerThreads) == 0 {
		o.PeerThreads = d.PeerThreads
	}
	if len(o.PeerBLAS) == 0 {
		o.PeerBLAS = d.PeerBLAS
	}
	if o.GemmSize <= 0 {
		return nil, fmt.Errorf("--gemm-size must be positive, got %d", o.GemmSize)
	}
	for _, b := range o.PeerBLAS {
		if b != "reference" && b != "openblas" {
			return nil, fmt.Errorf("--peer-blas: unknown BLAS %q (want reference or openblas)", b)
		}
	}
	for _, t := range o.PeerThreads {
		if t < 1 {
			return nil, fmt.Errorf("--peer-threads: thread counts must be positive, got %d", t)
		}
	}
	models, err := selectModels(o.Models)
	if err != nil {
		return nil, err
	}
	runs := make([]SpeedRun, len(models))
	for i, m := range models {
		runs[i] = SpeedRun{Model: m, Steps: o.Steps, Warmup: o.Warmup, EvalImages: m.EvalImages,
			EvalBatch: trainer.EvalBatch, Seed: o.Seed}
		if o.EvalImages != 0 {
			runs[i].EvalImages = o.EvalImages
		}
		if err := runs[i].check(); err != nil {
			return nil, err
		}
	}
	var peer *torchPeer
	switch o.Peer {
	case "":
	case "torch":
		if peer, err = newTorchPeer(o.Python, o.PeerLibs, o.ChildTimeout); err != nil {
			return nil, err
		}
		defer peer.close()
	default:
		return nil, fmt.Errorf("--peer: unknown peer %q (want torch)", o.Peer)
	}
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, format+"\n", args...)
		}
	}

	rep := &SpeedReport{GOMAXPROCS: runtime.GOMAXPROCS(0), NumCPU: runtime.NumCPU(), Steps: o.Steps,
		Warmup: o.Warmup, EvalBatch: trainer.EvalBatch, Env: map[string]string{},
		Isolation: "each row is measured in a fresh process (frankenvit: a child process of this binary; torch: one python3 per row)"}
	if o.Measure == nil {
		rep.Isolation = "frankenvit rows are measured in this process one after the other (resident-set peaks accumulate; see go_heap_mb); torch: one python3 per row"
	}
	for _, k := range ReportedEnv {
		v, ok := os.LookupEnv(k)
		if !ok {
			v = "unset"
		}
		rep.Env[k] = v
	}
	logf("peaks: FMA loop, kernels.Gemm %d×%d×%d ...", o.GemmSize, o.GemmSize, o.GemmSize)
	rep.GemmPeak = MeasureGemmPeak(o.GemmSize, o.GemmReps)
	rep.FMAPeak = kernels.FMAPeak(runtime.GOMAXPROCS(0), 200*time.Millisecond)
	rep.Peak = rep.FMAPeak
	if rep.Peak == 0 {
		rep.Peak = rep.GemmPeak.GFLOPS
	}
	measure := o.Measure
	if measure == nil {
		measure = func(run SpeedRun, _ time.Duration) (Measurement, error) { return MeasureFrankenvit(run) }
	}
	timeout := func(derived time.Duration) time.Duration {
		if o.ChildTimeout > 0 {
			return o.ChildTimeout
		}
		return derived
	}
	if peer != nil {
		rep.Notes = append(rep.Notes, peer.notes...)
		rep.Peer, rep.PeerBudget = o.Peer, o.PeerBudget.Seconds()
	}
	for _, run := range runs {
		f := CountFLOPs(run.Model.Config)
		rep.Models = append(rep.Models, SpeedModelInfo{Run: run, Forward: f.Forward(), Train: f.Train(), Terms: f})
		logf("%s: frankenvit (%d+%d steps, %d eval images) ...", run.Model.Name, run.Warmup, run.Steps, run.EvalImages)
		// The frankenvit row is what the benchmark is about: if its child
		// fails, so does the command, with the child's one-line error.
		m, err := measure(run, timeout(FrankenvitTimeout(run)))
		if err != nil {
			return nil, err
		}
		rows := []Measurement{m}
		if peer != nil {
			for _, blas := range o.PeerBLAS {
				for _, threads := range o.PeerThreads {
					logf("%s: torch, %s BLAS, %d thread(s) ...", run.Model.Name, blas, threads)
					pm, err := peer.measure(run, blas, threads, o.PeerBudget, timeout(PeerTimeout(run, o.PeerBudget)))
					// A peer configuration is a comparison: one that times
					// out, crashes or prints no result leaves its row empty,
					// saying why (Failed), and a note; the others and the
					// frankenvit rows stand.
					var ce *ChildError
					if errors.As(err, &ce) {
						pm.Failed = ce.Reason
						rep.Notes = append(rep.Notes, ce.Error()+"; its row is empty")
						logf("%s", ce.Error())
					} else if err != nil {
						return nil, err
					}
					if pm.Failed == "" && pm.Skipped == "" && blasKind(pm.Library) != blas {
						rep.Notes = append(rep.Notes, fmt.Sprintf("torch peer (%s, %s, %s) asked for %s but mapped %s: its numbers are not %s's",
							run.Model.Name, blas, threadsWord(threads), blas, libraryWord(pm.Library), blas))
					}
					rows = append(rows, pm)
				}
			}
		}
		for i := range rows {
			rows[i].derive(f, rep.Peak)
		}
		compare(rows)
		rep.Rows = append(rep.Rows, rows...)
	}
	return rep, nil
}

func selectModels(names []string) ([]SpeedModel, error) {
	all := SpeedModels()
	if len(names) == 0 {
		return all, nil
	}
	var out []SpeedModel
	for _, n := range names {
		found := false
		for _, m := range all {
			if m.Name == n {
				out, found = append(out, m), true
			}
		}
		if !found {
			known := make([]string, len(all))
			for i, m := range all {
				known[i] = m.Name
			}
			return nil, fmt.Errorf("--models: unknown model %q (want %s)", n, strings.Join(known, ", "))
		}
	}
	return out, nil
}

// measured reports whether the row has numbers: it was neither skipped nor failed.
func (m *Measurement) measured() bool { return m.Skipped == "" && m.Failed == "" }

// derive fills the rates from the raw times and the FLOP count.
func (m *Measurement) derive(f FLOPs, peak float64) {
	if !m.measured() {
		return
	}
	if m.TrainSeconds > 0 {
		m.TrainImagesPerSec = float64(m.TrainImages) / m.TrainSeconds
	}
	if m.EvalSeconds > 0 {
		m.InferImagesPerSec = float64(m.EvalImages) / m.EvalSeconds
		m.Eval10kSeconds = m.EvalSeconds * 10000 / float64(m.EvalImages)
	}
	m.TrainGFLOPS = m.TrainImagesPerSec * float64(f.Train()) / 1e9
	m.InferGFLOPS = m.InferImagesPerSec * float64(f.Forward()) / 1e9
	if peak > 0 {
		m.TrainPeak, m.InferPeak = m.TrainGFLOPS/peak, m.InferGFLOPS/peak
	}
}

// compare marks the best peer rows of one model (rows[0] is frankenvit's) and
// fills the frankenvit-over ratios.
func compare(rows []Measurement) {
	fv := &rows[0]
	bestT, bestI := -1, -1
	for i := 1; i < len(rows); i++ {
		r := &rows[i]
		if !r.measured() {
			continue
		}
		if r.TrainImagesPerSec > 0 {
			r.TrainVs = fv.TrainImagesPerSec / r.TrainImagesPerSec
		}
		if r.InferImagesPerSec > 0 {
			r.InferVs = fv.InferImagesPerSec / r.InferImagesPerSec
		}
		if bestT < 0 || r.TrainImagesPerSec > rows[bestT].TrainImagesPerSec {
			bestT = i
		}
		if bestI < 0 || r.InferImagesPerSec > rows[bestI].InferImagesPerSec {
			bestI = i
		}
	}
	if bestT > 0 {
		rows[bestT].BestTrain, fv.TrainVs = true, rows[bestT].TrainVs
	}
	if bestI > 0 {
		rows[bestI].BestInfer, fv.InferVs = true, rows[bestI].InferVs
	}
}

// SpeedHeader is the header of the speed table.
// (Plain words: tablewriter splits header cells at every change between
// letters, digits and punctuation.)
var SpeedHeader = []string{"model", "engine", "blas", "threads", "train img per s", "infer img per s", "eval 10000 s",
	"train GFLOPS", "infer GFLOPS", "train RSS MB", "peak RSS MB", "train ratio", "infer ratio", "best peer"}

// Table renders the report: one row per model and engine configuration.
func (r *SpeedReport) Table() *table.Table {
	var title strings.Builder
	fmt.Fprintf(&title, "bench speed: %d timed training steps (after %d warm-up) per row; evaluation in batches of %d; synthetic data\n",
		r.Steps, r.Warmup, r.EvalBatch)
	g := r.GemmPeak
	if r.FMAPeak > 0 {
		fmt.Fprintf(&title, "FMA peak: %.1f GFLOP/s (8-lane float32 FMAs in registers on %d threads, %d CPUs)\n",
			r.FMAPeak, r.GOMAXPROCS, r.NumCPU)
	}
	fmt.Fprintf(&title, "GEMM: %.1f GFLOP/s (best kernels.Gemm %s, %d×%d×%d float32, %d goroutines)\n",
		g.GFLOPS, g.Kernels, g.Size, g.Size, g.Size, g.Threads)
	evalAsked := map[string]int{}
	for _, mi := range r.Models {
		c := mi.Run.Model.Config
		fmt.Fprintf(&title, "%s: %dx%dx%d, patch %d, dim %d, %d heads, MLP %d, depth %d, batch %d; %.2f MFLOP forward, %.2f MFLOP training (3x forward) per image; %d evaluation images\n",
			mi.Run.Model.Name, c.ImageHeight, c.ImageWidth, c.Channels, c.Patch, c.Dim, c.Heads, c.MLP, c.Depth,
			mi.Run.Model.Batch, float64(mi.Forward)/1e6, float64(mi.Train)/1e6, mi.Run.EvalImages)
		evalAsked[mi.Run.Model.Name] = mi.Run.EvalImages
	}
	var env []string
	for _, k := range ReportedEnv {
		env = append(env, k+"="+r.Env[k])
	}
	fmt.Fprintf(&title, "env: %s\n", strings.Join(env, " "))
	if r.Peer != "" {
		fmt.Fprintf(&title, "torch rows: OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = torch threads, OMP_WAIT_POLICY=PASSIVE unless set, BLAS chosen by LD_LIBRARY_PATH\n")
	}
	peak := "the FMA peak"
	if r.FMAPeak == 0 {
		peak = "the GEMM rate, standing in for the peak"
	}
	fmt.Fprintf(&title, "GFLOPS: achieved GFLOP/s (share of %s); RSS: VmHWM after training and at the end; %s\n", peak, r.Isolation)
	fmt.Fprintf(&title, "ratio: frankenvit ÷ that row (on frankenvit rows: ÷ the model's best peer row)")
	if r.PeerBudget > 0 {
		fmt.Fprintf(&title, "; a peer phase stops after %gs (the steps or images timed are then given)", r.PeerBudget)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(&title, "\nnote: %s", n)
	}
	t := &table.Table{Title: title.String(), Header: append([]string(nil), SpeedHeader...)}
	for _, m := range r.Rows {
		engine := m.Engine + " " + m.Version
		if !m.measured() {
			why := m.Skipped
			if m.Failed != "" {
				why = "failed: " + m.Failed
			}
			t.Add(m.Model, m.Engine, m.BLAS+" ("+why+")", strconv.Itoa(m.Threads), "-", "-", "-", "-", "-", "-", "-", "-", "-", "")
			continue
		}
		var best []string
		if m.BestTrain {
			best = append(best, "train")
		}
		if m.BestInfer {
			best = append(best, "infer")
		}
		train, infer := rate(m.TrainImagesPerSec), rate(m.InferImagesPerSec)
		if m.TrainSteps < r.Steps {
			train += fmt.Sprintf(" (%d steps)", m.TrainSteps)
		}
		if m.EvalImages < evalAsked[m.Model] {
			infer += fmt.Sprintf(" (%d images)", m.EvalImages)
		}
		t.Add(m.Model, engine, blasCell(m), strconv.Itoa(m.Threads), train, infer,
			fmt.Sprintf("%.2f", m.Eval10kSeconds),
			fmt.Sprintf("%.1f (%.0f%%)", m.TrainGFLOPS, 100*m.TrainPeak),
			fmt.Sprintf("%.1f (%.0f%%)", m.InferGFLOPS, 100*m.InferPeak),
			fmt.Sprintf("%.0f", m.RSSTrainMB), fmt.Sprintf("%.0f", m.RSSPeakMB),
			ratio(m.TrainVs), ratio(m.InferVs), strings.Join(best, ", "))
	}
	return t
}

// rate prints images/s: whole numbers, or 3 significant digits below 100.
func rate(x float64) string {
	if x >= 100 {
		return fmt.Sprintf("%.0f", x)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

func ratio(x float64) string {
	if x == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", x)
}

// blasCell names the BLAS a row used: the one asked for, and what the
// process really mapped when that is something else.
func blasCell(m Measurement) string {
	if m.Engine != "torch" {
		return m.BLAS
	}
	got := blasKind(m.Library)
	if got == m.BLAS {
		return m.BLAS
	}
	return fmt.Sprintf("%s (but loaded %s)", m.BLAS, libraryWord(m.Library))
}

// libraryWord names a mapped libblas.so.3 for people.
func libraryWord(path string) string {
	if path == "" {
		return "no libblas.so.3"
	}
	return blasKind(path)
}

func threadsWord(n int) string {
	if n == 1 {
		return "1 thread"
	}
	return strconv.Itoa(n) + " threads"
}

// blasKind classifies a libblas.so.3 path.
func blasKind(path string) string {
	switch {
	case path == "":
		return "none"
	case strings.Contains(path, "openblas"):
		return "openblas"
	case strings.Contains(path, "/blas/"):
		return "reference"
	}
	return filepath.Base(path)
}

// torchPeer runs speed/torch_speed.py.
type torchPeer struct {
	python string
	dir    string // holds the script
	script string
	libs   map[string]string // BLAS kind -> directory with its libblas.so.3 ("" = not installed)
	notes  []string
}

// ErrNoTorch says that the peer's interpreter cannot import torch.
var ErrNoTorch = errors.New("--peer torch needs PyTorch from Debian: apt-get install python3-torch")

// newTorchPeer checks that python imports torch (within timeout, or
// importTimeout when 0) and finds the BLAS folders: libs as given, the
// other kinds looked up.
func newTorchPeer(python string, libs map[string]string, timeout time.Duration) (*torchPeer, error) {
	if timeout <= 0 {
		timeout = importTimeout
	}
	if _, err := runChild(python, timeout, python, []string{"-c", "import torch"}, nil); err != nil {
		why := err.Error()
		var ce *ChildError
		if errors.As(err, &ce) {
			why = ce.Reason
		}
		return nil, fmt.Errorf("%w (%s cannot import torch: %s)", ErrNoTorch, python, why)
	}
	dir, err := os.MkdirTemp("", "frankenvit-torch-speed")
	if err != nil {
		return nil, err
	}
	p := &torchPeer{python: python, dir: dir, script: filepath.Join(dir, "torch_speed.py"), libs: map[string]string{}}
	if err := os.WriteFile(p.script, TorchSpeedScript, 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	for kind, d := range libs {
		p.libs[kind] = d
	}
	if _, ok := p.libs["openblas"]; !ok {
		p.libs["openblas"] = blasDir("libopenblas0-pthread", "openblas-pthread")
	}
	if _, ok := p.libs["reference"]; !ok {
		p.libs["reference"] = blasDir("libblas3", "blas")
	}
	if p.libs["reference"] == "" {
		p.notes = append(p.notes, "the reference BLAS is not installed (apt-get install libblas3), so its rows are skipped")
	}
	if p.libs["openblas"] == "" {
		p.notes = append(p.notes, "OpenBLAS is not installed (apt-get install libopenblas0-pthread), so its rows are skipped")
	}
	return p, nil
}

func (p *torchPeer) close() { os.RemoveAll(p.dir) }

// blasDir finds the directory holding pkg's libblas.so.3: from dpkg's file
// list, else the usual multiarch place /usr/lib/<triplet>/<sub>.
func blasDir(pkg, sub string) string {
	if out, err := runChild("dpkg -L "+pkg, dpkgTimeout, "dpkg", []string{"-L", pkg}, nil); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(filepath.Base(line), "libblas.so") {
				if _, err := os.Stat(line); err == nil {
					return filepath.Dir(line)
				}
			}
		}
	}
	matches, _ := filepath.Glob(filepath.Join("/usr/lib/*", sub, "libblas.so.3"))
	for _, m := range matches {
		if _, err := os.Stat(m); err == nil { // not a dangling link
			return filepath.Dir(m)
		}
	}
	return ""
}

// torchResult is the JSON line torch_speed.py prints.
type torchResult struct {
	Torch        string            `json:"torch"`
	Threads      int               `json:"threads"`
	BLASLibrary  string            `json:"blas_library"`
	TrainSteps   int               `json:"train_steps"`
	TrainImages  int               `json:"train_images"`
	TrainSeconds float64           `json:"train_seconds"`
	FinalLoss    *float64          `json:"final_loss"`
	EvalImages   int               `json:"eval_images"`
	EvalSeconds  float64           `json:"eval_seconds"`
	RSSBase      float64           `json:"rss_base_mb"`
	RSSTrain     float64           `json:"rss_train_mb"`
	RSSPeak      float64           `json:"rss_peak_mb"`
	Env          map[string]string `json:"env"`
}

// TorchArgs are the torch_speed.py arguments for one run.
func TorchArgs(run SpeedRun, threads int) []string {
	c := run.Model.Config
	a := []string{"--image", strconv.Itoa(c.ImageHeight), "--channels", strconv.Itoa(c.Channels),
		"--patch", strconv.Itoa(c.Patch), "--dim", strconv.Itoa(c.Dim), "--heads", strconv.Itoa(c.Heads),
		"--mlp", strconv.Itoa(c.MLP), "--depth", strconv.Itoa(c.Depth), "--classes", strconv.Itoa(c.Classes),
		"--batch", strconv.Itoa(run.Model.Batch), "--steps", strconv.Itoa(run.Steps), "--warmup", strconv.Itoa(run.Warmup),
		"--eval-images", strconv.Itoa(run.EvalImages), "--eval-batch", strconv.Itoa(run.EvalBatch),
		"--threads", strconv.Itoa(threads), "--seed", strconv.FormatUint(run.Seed, 10)}
	return a
}

// ParseTorchOutput reads the JSON line of torch_speed.py into a Measurement
// (times and memory; rates are derived later).
func ParseTorchOutput(out []byte) (Measurement, error) {
	var r torchResult
	if err := json.Unmarshal(bytes.TrimSpace(out), &r); err != nil {
		return Measurement{}, fmt.Errorf("torch_speed.py printed no result: %v", err)
	}
	if r.TrainImages <= 0 || r.TrainSeconds <= 0 || r.EvalImages <= 0 || r.EvalSeconds <= 0 {
		return Measurement{}, fmt.Errorf("torch_speed.py printed an incomplete result: %s", bytes.TrimSpace(out))
	}
	m := Measurement{Engine: "torch", Version: r.Torch, Library: r.BLASLibrary, Threads: r.Threads,
		TrainSteps: r.TrainSteps, TrainImages: r.TrainImages, TrainSeconds: r.TrainSeconds, EvalImages: r.EvalImages, EvalSeconds: r.EvalSeconds,
		RSSBaseMB: r.RSSBase, RSSTrainMB: r.RSSTrain, RSSPeakMB: r.RSSPeak, FinalLoss: math.NaN(), Env: r.Env}
	if r.FinalLoss != nil {
		m.FinalLoss = *r.FinalLoss
	}
	return m, nil
}

// measure runs one peer configuration. A configuration whose BLAS is not
// installed comes back Skipped, with no error; a process that times out,
// fails or prints no result gives a *ChildError of one line (Speed turns
// it into the row's Failed); any other error is the caller's mistake.
func (p *torchPeer) measure(run SpeedRun, blas string, threads int, budget, timeout time.Duration) (Measurement, error) {
	skipped := Measurement{Model: run.Model.Name, Engine: "torch", BLAS: blas, Threads: threads}
	dir := p.libs[blas]
	if dir == "" {
		skipped.Skipped = "not installed"
		return skipped, nil
	}
	if run.Model.Config.ImageHeight != run.Model.Config.ImageWidth {
		return skipped, fmt.Errorf("torch_speed.py takes square images, %s is %dx%d", run.Model.Name,
			run.Model.Config.ImageHeight, run.Model.Config.ImageWidth)
	}
	args := append([]string{p.script}, TorchArgs(run, threads)...)
	if budget > 0 {
		args = append(args, "--budget", strconv.FormatFloat(budget.Seconds(), 'f', -1, 64))
	}
	name := fmt.Sprintf("torch peer (%s, %s, %s)", run.Model.Name, blas, threadsWord(threads))
	out, err := runChild(name, timeout, p.python, args, TorchEnv(os.Environ(), dir, threads))
	if err != nil {
		return skipped, err
	}
	m, err := ParseTorchOutput(out)
	if err != nil {
		return skipped, &ChildError{Child: name, Reason: oneLine(err.Error())}
	}
	m.Model, m.BLAS = run.Model.Name, blas
	return m, nil
}

// TorchEnv is env with libDir first on LD_LIBRARY_PATH (so torch's
// libblas.so.3 resolves there), OpenMP, OpenBLAS and MKL limited to threads
// threads, and OMP_WAIT_POLICY=PASSIVE unless env sets a policy: with torch's
// OpenMP threads spinning after each parallel region and OpenBLAS's own
// threads on the same two cores, 2-thread PyTorch trains the default model at
// less than half its 1-thread speed; passive waiting is its best setting.
// OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE and everything else pass through
// unchanged.
func TorchEnv(env []string, libDir string, threads int) []string {
	out := make([]string, 0, len(env)+4)
	ld := libDir
	set := map[string]bool{"LD_LIBRARY_PATH": true, "OMP_NUM_THREADS": true, "OPENBLAS_NUM_THREADS": true, "MKL_NUM_THREADS": true}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		if k == "LD_LIBRARY_PATH" && v != "" && libDir != "" {
			ld = libDir + ":" + v
		} else if k == "LD_LIBRARY_PATH" && libDir == "" {
			ld = v
		}
		if !set[k] {
			out = append(out, kv)
		}
	}
	n := strconv.Itoa(threads)
	hasPolicy := false
	for _, kv := range out {
		hasPolicy = hasPolicy || strings.HasPrefix(kv, "OMP_WAIT_POLICY=")
	}
	if !hasPolicy {
		out = append(out, "OMP_WAIT_POLICY=PASSIVE")
	}
	if ld != "" {
		out = append(out, "LD_LIBRARY_PATH="+ld)
	}
	return append(out, "OMP_NUM_THREADS="+n, "OPENBLAS_NUM_THREADS="+n, "MKL_NUM_THREADS="+n)
}
