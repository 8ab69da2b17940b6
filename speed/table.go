package speed

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/frankenvit/frankenvit/table"
)

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
	fmt.Fprintf(&title, "bench speed: %d timed training steps (after %d warm-up) per row; synthetic data\n", r.Steps, r.Warmup)
	g := r.GemmPeak
	if r.CPU != "" || len(r.CPUFlags) > 0 {
		fmt.Fprintf(&title, "CPU: %s; flags: %s\n", r.CPU, strings.Join(r.CPUFlags, " "))
	}
	if r.FMAPeak > 0 {
		fmt.Fprintf(&title, "FMA peak: %.1f GFLOP/s (%d-lane float32 FMAs, %s, in registers on %d threads, %d CPUs)\n",
			r.FMAPeak, r.FMALanes, r.FMAISA, r.GOMAXPROCS, r.NumCPU)
	}
	fmt.Fprintf(&title, "GEMM: %.1f GFLOP/s (best kernels.Gemm %s, %d×%d×%d float32, %d goroutines)\n",
		g.GFLOPS, g.Kernels, g.Size, g.Size, g.Size, g.Threads)
	evalAsked := map[string]int{}
	for _, mi := range r.Models {
		c := mi.Run.Model.Config
		fmt.Fprintf(&title, "%s: %dx%dx%d, patch %d, dim %d, %d heads, MLP %d, depth %d, batch %d; %.2f MFLOP forward, %.2f MFLOP training (3x forward) per image; %d evaluation images in batches of %d\n",
			mi.Run.Model.Name, c.ImageHeight, c.ImageWidth, c.Channels, c.Patch, c.Dim, c.Heads, c.MLP, c.Depth,
			mi.Run.Model.Batch, float64(mi.Forward)/1e6, float64(mi.Train)/1e6, mi.Run.EvalImages, mi.Run.EvalBatch)
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

// ProfileTable lists the top functions of each frankenvit row's CPU
// profiles (nil when no row was profiled): one row per model, phase and rank.
func (r *SpeedReport) ProfileTable() *table.Table {
	t := &table.Table{Title: "CPU profiles of the timed phases (flat: time in the function itself)",
		Header: []string{"model", "phase", "rank", "function", "flat"}}
	for _, m := range r.Rows {
		for _, ph := range []struct {
			name string
			top  []ProfileEntry
		}{{"train", m.TrainTop}, {"infer", m.InferTop}} {
			for i, e := range ph.top {
				fn := strings.TrimPrefix(e.Function, "github.com/frankenvit/frankenvit/")
				t.Add(m.Model, ph.name, strconv.Itoa(i+1), fn, fmt.Sprintf("%.1f%%", 100*e.Flat))
			}
		}
	}
	if len(t.Rows) == 0 {
		return nil
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
