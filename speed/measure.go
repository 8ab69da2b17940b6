package speed

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"time"

	"github.com/frankenvit/frankenvit/dataset"
	"github.com/frankenvit/frankenvit/internal/procstat"
	"github.com/frankenvit/frankenvit/internal/synth"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
	"github.com/frankenvit/frankenvit/vit/kernels"
)

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

	// TrainTop and InferTop are the top functions of the CPU profiles of
	// the timed training and evaluation (frankenvit rows with --profile).
	TrainTop []ProfileEntry `json:"train_profile,omitempty"`
	InferTop []ProfileEntry `json:"infer_profile,omitempty"`

	// TrainVs and InferVs: on a frankenvit row, frankenvit ÷ the best peer
	// configuration of that model; on a peer row, frankenvit ÷ that row.
	TrainVs   float64 `json:"train_frankenvit_over,omitempty"`
	InferVs   float64 `json:"infer_frankenvit_over,omitempty"`
	BestTrain bool    `json:"best_peer_train,omitempty"`
	BestInfer bool    `json:"best_peer_infer,omitempty"`
}

// MeasureFrankenvit trains and evaluates one model in this process, the way
// `frankenvit train` and `frankenvit eval` do: each training step is one
// trainer.Stepper step (a fresh random block order, forward and backward in
// shards, ClipGradNorm(1), AdamW); evaluation runs trainer.Evaluator (the tape-free
// vit.Runner, batches of trainer.EvalBatchFor) over synthetic 8-bit images under
// the sequential plan. The resident-set fields describe this whole process,
// so call it in a fresh process for a clean number.
func MeasureFrankenvit(run SpeedRun) (Measurement, error) {
	if err := run.check(); err != nil {
		return Measurement{}, err
	}
	c, B := run.Model.Config, run.Model.Batch
	out := Measurement{Model: run.Model.Name, Engine: "frankenvit", Version: kernels.Implementation(), BLAS: "-",
		Threads: runtime.GOMAXPROCS(0), RSSBaseMB: procstat.MB("VmRSS")}
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
	// The clocks run inside the profiled phases: writing and reading a
	// profile is not timed.
	out.TrainTop, err = profiled(profilePath(run, "train"), func() error {
		t := time.Now()
		for i := 0; i < run.Steps; i++ {
			if err := step(i); err != nil {
				return err
			}
		}
		out.TrainSeconds = time.Since(t).Seconds()
		return nil
	})
	if err != nil {
		return out, err
	}
	out.TrainSteps, out.TrainImages = run.Steps, run.Steps*B
	out.FinalLoss = float64(loss)
	out.RSSTrainMB = procstat.MB("VmHWM")
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
	out.InferTop, err = profiled(profilePath(run, "infer"), func() error {
		t := time.Now()
		ev.Accuracy(m.Sequential())
		out.EvalSeconds = time.Since(t).Seconds()
		return nil
	})
	if err != nil {
		return out, err
	}
	out.EvalImages = run.EvalImages
	// The kernel syncs its per-thread RSS counters lazily, so a later VmHWM
	// read can come out a little lower; the process's peak is at least the
	// training peak.
	out.RSSPeakMB = max(out.RSSTrainMB, procstat.MB("VmHWM"))
	return out, nil
}

// maxEvalValues bounds the synthetic evaluation set, which is made whole
// before it is timed: 2^30 float32 values, 4 GB.
const maxEvalValues = 1 << 30

func (r SpeedRun) check() error {
	switch {
	case r.Steps < 1:
		return fmt.Errorf("--steps must be at least 1, got %d", r.Steps)
	case r.Warmup < 0:
		return fmt.Errorf("--warmup must not be negative, got %d", r.Warmup)
	case r.EvalImages < 1:
		return fmt.Errorf("--eval-images must be at least 1, got %d", r.EvalImages)
	case float64(r.EvalImages)*float64(r.Model.Config.ImageSize()) > maxEvalValues:
		return fmt.Errorf("--eval-images %d: the synthetic images of %s would take %.3g GB; at most %d of them",
			r.EvalImages, r.Model.Name, float64(r.EvalImages)*float64(r.Model.Config.ImageSize())*4/1e9,
			int(maxEvalValues/float64(max(r.Model.Config.ImageSize(), 1))))
	case r.EvalBatch < 1:
		return fmt.Errorf("eval batch must be at least 1, got %d", r.EvalBatch)
	case r.Model.Batch < 1:
		return fmt.Errorf("batch must be at least 1, got %d", r.Model.Batch)
	}
	return r.Model.Config.Validate()
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
