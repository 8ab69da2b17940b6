package speed

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/frankenvit/frankenvit/internal/procstat"
	"github.com/frankenvit/frankenvit/trainer"
	"github.com/frankenvit/frankenvit/vit"
	"github.com/frankenvit/frankenvit/vit/kernels"
)

// SpeedModel is one model of the speed benchmark.
type SpeedModel struct {
	Name   string     `json:"name"`
	Config vit.Config `json:"config"`
	Batch  int        `json:"batch"`
	// EvalImages is how many images the inference measurement evaluates
	// unless --eval-images says otherwise.
	EvalImages int `json:"eval_images"`
}

// SpeedModels are the models `bench speed` measures, all trained with
// LayerShuffle (a random block order per batch) at batch 64: the default
// model of design.md, a larger one (ViT-Tiny widths with patch 4 on 28x28,
// 50 tokens) and ViT-Tiny itself at full size (224x224x3, patch 16, 197
// tokens, 1000 classes), where attention weighs most. Inference evaluates
// 10,000 images on the default model (the "10,000 images under one plan"
// target), 2,560 (10 batches) on the larger one and 512 on ViT-Tiny.
func SpeedModels() []SpeedModel {
	def := vit.DefaultConfig()
	def.Variant = vit.Shuffle
	large := vit.Config{ImageHeight: 28, ImageWidth: 28, Channels: 1, Patch: 4, Dim: 192, Heads: 3, MLP: 768,
		Depth: 12, Classes: 10, Variant: vit.Shuffle}
	tiny := vit.Config{ImageHeight: 224, ImageWidth: 224, Channels: 3, Patch: 16, Dim: 192, Heads: 3, MLP: 768,
		Depth: 12, Classes: 1000, Variant: vit.Shuffle}
	return []SpeedModel{{Name: "default", Config: def, Batch: 64, EvalImages: 10000},
		{Name: "large", Config: large, Batch: 64, EvalImages: 2560},
		{Name: "vit-ti", Config: tiny, Batch: 64, EvalImages: 512}}
}

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
	// ProfileDir, if set, receives CPU profiles of the timed training and
	// evaluation: <model>-train.pprof and <model>-infer.pprof.
	ProfileDir string `json:"profile_dir,omitempty"`
}

// maxGemmSize bounds --gemm-size: three 8192² float32 matrices are 805 MB and
// five products of them take seconds; past it a size is a typo.
const maxGemmSize = 8192

// SpeedOptions configures Speed.
type SpeedOptions struct {
	Models     []string // names from SpeedModels; empty = all
	Steps      int      // timed training steps per model
	Warmup     int      // untimed training steps before them
	EvalImages int      // images evaluated under one plan per model (0: the model's own EvalImages)
	GemmSize   int      // n of the n×n×n GEMM-peak problem
	GemmReps   int
	Seed       uint64
	// ProfileDir, if set, is where each frankenvit row writes the CPU
	// profiles of its timed phases (see SpeedRun.ProfileDir).
	ProfileDir string

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
	CPU        string            `json:"cpu"`               // the processor's model name
	CPUFlags   []string          `json:"cpu_flags"`         // the SIMD extensions that matter to the kernels
	FMAISA     string            `json:"fma_isa,omitempty"` // the FMA loop's instructions: AVX-512 or AVX2
	FMALanes   int               `json:"fma_lanes,omitempty"`
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
	if o.GemmSize <= 0 || o.GemmSize > maxGemmSize {
		return nil, fmt.Errorf("--gemm-size must be from 1 to %d, got %d", maxGemmSize, o.GemmSize)
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
	if o.ProfileDir != "" {
		if o.ProfileDir, err = filepath.Abs(o.ProfileDir); err != nil {
			return nil, err
		}
		// Made before the run, so a path that cannot hold the profiles
		// fails in a second, not after the measurements.
		if err := os.MkdirAll(o.ProfileDir, 0o755); err != nil {
			return nil, fmt.Errorf("--profile %s: cannot make the folder: %v", o.ProfileDir, err)
		}
	}
	runs := make([]SpeedRun, len(models))
	for i, m := range models {
		runs[i] = SpeedRun{Model: m, Steps: o.Steps, Warmup: o.Warmup, EvalImages: m.EvalImages,
			EvalBatch: trainer.EvalBatchFor(m.Config), Seed: o.Seed, ProfileDir: o.ProfileDir}
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
	rep.FMAISA, rep.FMALanes = kernels.FMAWidth()
	rep.CPU, rep.CPUFlags = procstat.CPUModel(), kernels.CPUFlags()
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
