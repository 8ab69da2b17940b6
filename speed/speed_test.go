package speed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/frankenvit/frankenvit/internal/testenv"
	"github.com/frankenvit/frankenvit/vit"
)

// TestCountFLOPsHandCount checks every term against a count by hand of a tiny
// config: 4x4 images with 2 channels, patch 2 (N = 4 patches, T = 5 tokens,
// patch size C·P² = 8), width 4, 2 heads, MLP 8, 3 classes.
func TestCountFLOPsHandCount(t *testing.T) {
	c := vit.Config{ImageHeight: 4, ImageWidth: 4, Channels: 2, Patch: 2, Dim: 4, Heads: 2, MLP: 8, Depth: 1,
		Classes: 3, Variant: vit.Baseline}
	want := FLOPs{
		PatchEmbed: 2 * 4 * 8 * 4,       // [4 patches x 8] · [8 x 4]
		QKV:        2 * 5 * 4 * 12,      // [5 x 4] · [4 x 12]
		Scores:     2 * (2 * 5 * 5 * 2), // 2 heads of [5 x 2] · [2 x 5]
		Weighted:   2 * (2 * 5 * 5 * 2), // 2 heads of [5 x 5] · [5 x 2]
		Proj:       2 * 5 * 4 * 4,       // [5 x 4] · [4 x 4]
		FC1:        2 * 5 * 4 * 8,       // [5 x 4] · [4 x 8]
		FC2:        2 * 5 * 8 * 4,       // [5 x 8] · [8 x 4]
		Head:       2 * 4 * 3,           // class token [1 x 4] · [4 x 3]
	}
	got := CountFLOPs(c)
	if got != want {
		t.Fatalf("CountFLOPs = %+v, want %+v", got, want)
	}
	if got.Forward() != 1960 || got.Train() != 3*1960 {
		t.Errorf("forward %d, train %d; want 1960, 5880", got.Forward(), got.Train())
	}
	// Every block term scales with the depth, stem and head do not.
	c.Depth = 2
	if f := CountFLOPs(c).Forward(); f != 256+2*(480+200+200+160+320+320)+24 {
		t.Errorf("depth 2: forward %d, want 3640", f)
	}
}

// TestCountFLOPsModels checks the closed form 2NCP²D + L(8TD² + 4TDM + 4T²D) + 2DK
// and the figure for the default model (about 21.7 MFLOP per training image).
func TestCountFLOPsModels(t *testing.T) {
	for _, m := range SpeedModels() {
		c := m.Config
		N, T, D, M, L := int64(c.Patches()), int64(c.Tokens()), int64(c.Dim), int64(c.MLP), int64(c.Depth)
		closed := 2*N*int64(c.PatchSize())*D + L*(8*T*D*D+4*T*D*M+4*T*T*D) + 2*D*int64(c.Classes)
		if f := CountFLOPs(c).Forward(); f != closed {
			t.Errorf("%s: forward %d, closed form %d", m.Name, f, closed)
		}
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
		if m.Batch != 64 {
			t.Errorf("%s: batch %d, want 64", m.Name, m.Batch)
		}
	}
	def := CountFLOPs(SpeedModels()[0].Config)
	if def.Forward() != 7230208 || def.Train() != 21690624 {
		t.Errorf("default model: forward %d, train %d; want 7230208, 21690624", def.Forward(), def.Train())
	}
	large := SpeedModels()[1].Config
	if large.Dim != 192 || large.Heads != 3 || large.MLP != 768 || large.Depth != 12 || large.Patch != 4 || large.Tokens() != 50 {
		t.Errorf("large model config %+v", large)
	}
	// ViT-Ti as timm defines vit_tiny_patch16_224.
	tiny := SpeedModels()[2].Config
	if tiny.Dim != 192 || tiny.Heads != 3 || tiny.MLP != 768 || tiny.Depth != 12 || tiny.Patch != 16 || tiny.Tokens() != 197 ||
		tiny.Channels != 3 || tiny.Classes != 1000 {
		t.Errorf("vit-ti config %+v", tiny)
	}
}

// runCLI runs the frankenvit binary bin in a temporary directory.
func runCLI(t *testing.T, bin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = t.TempDir()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestBenchSpeedCLI builds ./cmd/frankenvit once and runs `bench speed` through it.
func TestBenchSpeedCLI(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "frankenvit")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/frankenvit").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Run("table", func(t *testing.T) { testBenchSpeedTable(t, bin) })
	t.Run("json", func(t *testing.T) { testBenchSpeedJSON(t, bin) })
	t.Run("bad input", func(t *testing.T) { testBenchSpeedBadInput(t, bin) })
	t.Run("child timeout", func(t *testing.T) { testBenchSpeedChildTimeout(t, bin) })
	t.Run("peer torch", func(t *testing.T) { testBenchSpeedPeerTorch(t, bin) })
	t.Run("profile", func(t *testing.T) { testBenchSpeedProfile(t, bin) })
}

// testBenchSpeedProfile: --profile writes both phases' profiles and prints
// their top functions, in the table and in the JSON.
func testBenchSpeedProfile(t *testing.T, bin string) {
	dir := filepath.Join(t.TempDir(), "new", "profiles") // made by the command
	out, errOut, code := runCLI(t, bin, append(append([]string(nil), tiny...), "--profile", dir)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, f := range []string{"default-train.pprof", "default-infer.pprof"} {
		if st, err := os.Stat(filepath.Join(dir, f)); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	if !strings.Contains(out, "CPU profiles of the timed phases") || !strings.Contains(out, "CPU:") {
		t.Errorf("output lacks the profile table or the CPU line:\n%s", out)
	}
	out, errOut, code = runCLI(t, bin, append(append([]string(nil), tiny...), "--profile", dir, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep SpeedReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
	r := rep.Rows[0]
	for phase, top := range map[string][]ProfileEntry{"train": r.TrainTop, "infer": r.InferTop} {
		if len(top) == 0 || len(top) > TopFunctions {
			t.Errorf("%s profile has %d entries", phase, len(top))
			continue
		}
		sum := 0.0
		for i, e := range top {
			sum += e.Flat
			if e.Function == "" || e.Flat <= 0 || (i > 0 && e.Flat > top[i-1].Flat) {
				t.Errorf("%s profile entry %d: %+v", phase, i, e)
			}
		}
		if sum > 1+1e-9 {
			t.Errorf("%s profile fractions sum to %v", phase, sum)
		}
	}
	if len(rep.CPUFlags) == 0 && runtime.GOARCH == "amd64" {
		t.Errorf("no CPU flags in the report")
	}
	file := filepath.Join(dir, "default-train.pprof")
	_, errOut, code = runCLI(t, bin, append(append([]string(nil), tiny...), "--profile", file)...)
	if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "cannot make the folder") {
		t.Errorf("--profile to a file: exit %d, stderr:\n%s", code, errOut)
	}
}

// tiny is a `bench speed` run of a few seconds.
var tiny = []string{"bench", "speed", "--models", "default", "--steps", "2", "--warmup", "1", "--eval-images", "300", "--gemm-size", "128"}

func testBenchSpeedTable(t *testing.T, bin string) {
	out, errOut, code := runCLI(t, bin, tiny...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, h := range SpeedHeader {
		if !strings.Contains(out, strings.ToUpper(h)) {
			t.Errorf("table lacks column %q:\n%s", h, out)
		}
	}
	for _, want := range []string{"GEMM:", "kernels.Gemm", "7.23 MFLOP forward, 21.69 MFLOP training",
		"OPENBLAS_CORETYPE=", "OPENBLAS_L2_SIZE=", "child process"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	var row []string
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "frankenvit") && strings.Contains(line, "default") {
			for _, cell := range strings.Split(line, "│") {
				if c := strings.TrimSpace(cell); c != "" {
					row = append(row, c)
				}
			}
		}
	}
	// Without a peer the ratio columns hold "-" and "best peer" is empty.
	if len(row) != len(SpeedHeader)-1 {
		t.Fatalf("frankenvit row has %d cells, want %d: %q", len(row), len(SpeedHeader)-1, row)
	}
	for i, cell := range row[4:10] {
		if cell == "-" || strings.HasPrefix(cell, "0 ") || cell == "0" {
			t.Errorf("column %q: %q", SpeedHeader[4+i], cell)
		}
	}
}

func testBenchSpeedJSON(t *testing.T, bin string) {
	out, errOut, code := runCLI(t, bin, append(tiny, "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep SpeedReport
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if rep.GemmPeak.GFLOPS <= 0 || rep.Peak <= 0 || rep.GemmPeak.Size != 128 || rep.Steps != 2 || rep.Warmup != 1 {
		t.Errorf("report %+v", rep)
	}
	if _, ok := rep.Env["OPENBLAS_CORETYPE"]; !ok {
		t.Errorf("env lacks OPENBLAS_CORETYPE: %v", rep.Env)
	}
	if len(rep.Rows) != 1 || len(rep.Models) != 1 {
		t.Fatalf("want one row and one model, got %d, %d", len(rep.Rows), len(rep.Models))
	}
	if mi := rep.Models[0]; mi.Run.EvalImages != 300 || mi.Train != 21690624 || mi.Terms.QKV == 0 {
		t.Errorf("model %+v", mi)
	}
	r := rep.Rows[0]
	if r.Model != "default" || r.Engine != "frankenvit" || r.TrainSteps != 2 || r.TrainImages != 128 || r.EvalImages != 300 {
		t.Errorf("row %+v", r)
	}
	for name, v := range map[string]float64{"train img/s": r.TrainImagesPerSec, "infer img/s": r.InferImagesPerSec,
		"eval 10k s": r.Eval10kSeconds, "train GFLOP/s": r.TrainGFLOPS, "infer GFLOP/s": r.InferGFLOPS,
		"train peak": r.TrainPeak, "infer peak": r.InferPeak, "train RSS": r.RSSTrainMB, "peak RSS": r.RSSPeakMB,
		"Go heap": r.GoHeapMB} {
		if !(v > 0) {
			t.Errorf("%s = %v, want > 0", name, v)
		}
	}
	if r.RSSPeakMB < r.RSSTrainMB {
		t.Errorf("peak RSS %v below training RSS %v", r.RSSPeakMB, r.RSSTrainMB)
	}
}

func testBenchSpeedBadInput(t *testing.T, bin string) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--models", "huge"}, `unknown model "huge"`},
		{[]string{"--steps", "0"}, "--steps"},
		{[]string{"--peer", "jax"}, `unknown peer "jax"`},
		{[]string{"--gemm-size", "2000000000"}, "--gemm-size must be from 1 to 8192, got 2000000000"},
		{[]string{"--eval-images", "2000000000"}, "--eval-images 2000000000: the synthetic images of default would take 6.27e+03 GB; at most 1369568 of them"},
		{[]string{"--peer", "torch", "--python", "/bin/false"}, "apt-get install python3-torch"},
		{[]string{"--peer", "torch", "--python", "/nonexistent/python3"}, "apt-get install python3-torch"},
	} {
		_, errOut, code := runCLI(t, bin, append(append([]string(nil), tiny...), tc.args...)...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code == 0 || len(lines) != 1 || !strings.Contains(errOut, tc.want) || strings.Contains(errOut, "goroutine") {
			t.Errorf("%v: want one error line containing %q and a non-zero exit; got exit %d, stderr:\n%s", tc.args, tc.want, code, errOut)
		}
	}
}

// testBenchSpeedChildTimeout: --child-timeout bounds the measuring child;
// the progress lines are followed by exactly one error line.
func testBenchSpeedChildTimeout(t *testing.T, bin string) {
	_, errOut, code := runCLI(t, bin, append(append([]string(nil), tiny...), "--child-timeout", "1ms")...)
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	last := lines[len(lines)-1]
	if code != 1 || last != "frankenvit: frankenvit child (default): timed out after 1ms" || strings.Count(errOut, "frankenvit: ") != 1 ||
		strings.Contains(errOut, "goroutine") {
		t.Errorf("exit %d, stderr:\n%s", code, errOut)
	}
}

// TestTorchSpeedScript runs the embedded peer script for 2 steps on a tiny model.
func TestTorchSpeedScript(t *testing.T) {
	testenv.NeedTorch(t)
	openblas := testenv.NeedOpenBLAS(t)
	script := filepath.Join(t.TempDir(), "torch_speed.py")
	if err := os.WriteFile(script, TorchSpeedScript, 0o644); err != nil {
		t.Fatal(err)
	}
	run := SpeedRun{Model: SpeedModel{Name: "tiny", Batch: 8, Config: vit.Config{ImageHeight: 8, ImageWidth: 8, Channels: 1,
		Patch: 4, Dim: 16, Heads: 2, MLP: 32, Depth: 2, Classes: 3, Variant: vit.Shuffle}},
		Steps: 2, Warmup: 1, EvalImages: 40, EvalBatch: 16, Seed: 1}
	cmd := exec.Command(DefaultPython, append([]string{script}, TorchArgs(run, 1)...)...)
	cmd.Env = TorchEnv(os.Environ(), openblas, 1)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, stderr.String())
	}
	m, err := ParseTorchOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Engine != "torch" || m.Threads != 1 || m.TrainSteps != 2 || m.TrainImages != 16 || m.EvalImages != 40 ||
		m.TrainSeconds <= 0 || m.EvalSeconds <= 0 || m.RSSPeakMB <= 0 || m.Version == "" {
		t.Errorf("parsed %+v from %s", m, out)
	}
	if blasKind(m.Library) != "openblas" {
		t.Errorf("with LD_LIBRARY_PATH=%s torch mapped %q, not OpenBLAS's libblas.so.3 (Debian package libopenblas0-pthread)", openblas, m.Library)
	}
	var raw map[string]any
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatal(err)
	}
	if raw["params"].(float64) != float64(tinyParams(run.Model.Config)) {
		t.Errorf("torch model has %v parameters, frankenvit's %d", raw["params"], tinyParams(run.Model.Config))
	}
}

// tinyParams is the parameter count of frankenvit's model of c.
func tinyParams(c vit.Config) int {
	m, err := vit.NewModel("p", c)
	if err != nil {
		panic(err)
	}
	return m.NumParams()
}

// testBenchSpeedPeerTorch runs the peer from the CLI in one configuration.
func testBenchSpeedPeerTorch(t *testing.T, bin string) {
	testenv.NeedTorch(t)
	testenv.NeedOpenBLAS(t)
	out, errOut, code := runCLI(t, bin, append(tiny, "--eval-images", "64", "--peer", "torch", "--peer-threads", "1",
		"--peer-blas", "openblas", "--json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var rep SpeedReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	if len(rep.Rows) != 2 {
		t.Fatalf("want a frankenvit and a torch row, got %+v", rep.Rows)
	}
	fv, pt := rep.Rows[0], rep.Rows[1]
	if pt.Skipped != "" || pt.Failed != "" {
		t.Fatalf("the torch row did not run: skipped %q, failed %q (notes %q); OpenBLAS is Debian package libopenblas0-pthread",
			pt.Skipped, pt.Failed, rep.Notes)
	}
	if pt.Engine != "torch" || pt.BLAS != "openblas" || pt.Threads != 1 || !pt.BestTrain || !pt.BestInfer ||
		pt.TrainSteps != 2 || pt.TrainImagesPerSec <= 0 || pt.InferImagesPerSec <= 0 {
		t.Errorf("torch row %+v", pt)
	}
	if blasKind(pt.Library) != "openblas" {
		t.Errorf("torch mapped %q, not OpenBLAS's libblas.so.3 (Debian package libopenblas0-pthread); notes %q", pt.Library, rep.Notes)
	}
	if fv.TrainVs != fv.TrainImagesPerSec/pt.TrainImagesPerSec || fv.InferVs != pt.InferVs || fv.TrainVs != pt.TrainVs {
		t.Errorf("ratios: frankenvit %+v, torch %+v", fv, pt)
	}
}

func TestTorchEnv(t *testing.T) {
	env := TorchEnv([]string{"PATH=/bin", "LD_LIBRARY_PATH=/opt/lib", "OMP_NUM_THREADS=8", "OPENBLAS_CORETYPE=Haswell"}, "/blas", 2)
	got := strings.Join(env, " ")
	for _, want := range []string{"PATH=/bin", "LD_LIBRARY_PATH=/blas:/opt/lib", "OMP_NUM_THREADS=2", "OPENBLAS_NUM_THREADS=2",
		"MKL_NUM_THREADS=2", "OPENBLAS_CORETYPE=Haswell", "OMP_WAIT_POLICY=PASSIVE"} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("env %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "OMP_NUM_THREADS=8") {
		t.Errorf("env %q keeps the old thread count", got)
	}
	// A wait policy the user set is kept.
	env = TorchEnv([]string{"OMP_WAIT_POLICY=ACTIVE"}, "", 1)
	if got := strings.Join(env, " "); !strings.Contains(got, "OMP_WAIT_POLICY=ACTIVE") || strings.Contains(got, "PASSIVE") ||
		strings.Contains(got, "LD_LIBRARY_PATH") {
		t.Errorf("env %q", got)
	}
}

// fakeChild writes an executable shell script standing in for a child
// process (the torch peer's interpreter or frankenvit's own binary). It
// answers `-c "import torch"` at once, so that the peer starts, and runs
// body otherwise.
func fakeChild(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "fake")
	script := "#!/bin/sh\nif [ \"$1\" = \"-c\" ]; then exit 0; fi\n" + body + "\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// stubMeasure stands in for frankenvit's measurement where a test is about the peer.
func stubMeasure(run SpeedRun, _ time.Duration) (Measurement, error) {
	return Measurement{Model: run.Model.Name, Engine: "frankenvit", BLAS: "-", Threads: 1, TrainSteps: run.Steps,
		TrainImages: run.Steps * run.Model.Batch, TrainSeconds: 1, EvalImages: run.EvalImages, EvalSeconds: 1}, nil
}

// childOptions is a speed run of one model that measures next to nothing,
// whose children are killed after 2 s.
func childOptions(python string, measure Measurer) SpeedOptions {
	return SpeedOptions{Models: []string{"default"}, Steps: 1, EvalImages: 1, GemmSize: 32, GemmReps: 1, Seed: 1,
		Peer: "torch", Python: python, PeerThreads: []int{2}, PeerBLAS: []string{"openblas"},
		PeerLibs: map[string]string{"openblas": os.TempDir()}, ChildTimeout: 2 * time.Second, Measure: measure}
}

// alive reports whether process pid exists and is not a zombie.
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+1:]))
	return len(f) > 0 && f[0] != "Z" && f[0] != "X"
}

// hangBody sleeps in a grandchild (so only killing the process group ends
// it, and its open stdout would keep Wait waiting) and records its pid.
func hangBody(pidFile string) string {
	return "sleep 600 &\necho $! > " + pidFile + "\nwait"
}

// A torch peer that hangs is killed with its process group at the time
// limit; its row says so in one line, as does one note and one log line,
// and the benchmark goes on.
func TestPeerHangIsKilledAtTimeout(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	o := childOptions(fakeChild(t, hangBody(pidFile)), stubMeasure)
	var log bytes.Buffer
	o.Log = &log
	start := time.Now()
	rep, err := Speed(o)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("a hanging peer failed the command: %v", err)
	}
	if took > 15*time.Second {
		t.Errorf("Speed took %v with a 2 s child time limit", took)
	}
	const line = "torch peer (default, openblas, 2 threads): timed out after 2s"
	if len(rep.Rows) != 2 || rep.Rows[1].Failed != "timed out after 2s" || rep.Rows[1].Skipped != "" {
		t.Fatalf("rows %+v", rep.Rows)
	}
	if !slices.Contains(rep.Notes, line+"; its row is empty") {
		t.Errorf("notes %q lack %q", rep.Notes, line)
	}
	var errLines []string
	for _, l := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		if !strings.HasSuffix(l, "...") { // progress lines end in "..."
			errLines = append(errLines, l)
		}
	}
	if len(errLines) != 1 || errLines[0] != line {
		t.Errorf("log has %q besides progress, want the one line %q", errLines, line)
	}
	if tab := rep.Table(); len(tab.Rows) != 2 || tab.Rows[1][2] != "openblas (failed: timed out after 2s)" {
		t.Errorf("the table does not say the row failed: %q", tab.Rows)
	}
	if r := rep.Rows[0]; r.TrainVs != 0 || r.InferVs != 0 || rep.Rows[1].BestTrain {
		t.Errorf("a failed row took part in the comparison: %+v", rep.Rows)
	}
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the fake peer did not start its grandchild: %v", err)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	for i := 0; i < 50 && alive(pid); i++ {
		time.Sleep(20 * time.Millisecond)
	}
	if pid <= 0 || alive(pid) {
		t.Errorf("the peer's grandchild %d (sleep 600) outlived the time limit: the process group was not killed", pid)
	}
}

// A torch peer that exits non-zero after a wall of stderr fails its row
// with the exit status and the last stderr line only.
func TestPeerCrashIsOneLine(t *testing.T) {
	body := "i=0; while [ $i -lt 3000 ]; do echo \"  File \\\"x.py\\\", line $i, in f (noise to fill the pipe)\" >&2; i=$((i+1)); done\n" +
		"echo 'RuntimeError: boom' >&2\nexit 3"
	rep, err := Speed(childOptions(fakeChild(t, body), stubMeasure))
	if err != nil {
		t.Fatalf("a crashing peer failed the command: %v", err)
	}
	want := "exit status 3: RuntimeError: boom"
	if len(rep.Rows) != 2 || rep.Rows[1].Failed != want {
		t.Fatalf("rows %+v, want the peer row failed with %q", rep.Rows, want)
	}
	if !slices.Contains(rep.Notes, "torch peer (default, openblas, 2 threads): "+want+"; its row is empty") {
		t.Errorf("notes %q", rep.Notes)
	}
	// A peer that exits 0 but prints no result fails its row too.
	rep, err = Speed(childOptions(fakeChild(t, "echo 'no json here'"), stubMeasure))
	if err != nil || len(rep.Rows) != 2 || !strings.HasPrefix(rep.Rows[1].Failed, "torch_speed.py printed no result") {
		t.Errorf("a peer without a result: %v, rows %+v", err, rep.Rows)
	}
}

// frankenvit's own measuring child: a hang is killed at the time limit, a
// crash is one line (the panic, not the goroutine dump), and either fails
// the command.
func TestFrankenvitChildFailuresAreOneLine(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	dump := "echo 'panic: boom' >&2\necho >&2\ni=0; while [ $i -lt 2000 ]; do echo \"goroutine $i [running]:\" >&2; echo \"	/src/x.go:$i +0x1f\" >&2; i=$((i+1)); done\nexit 2"
	for _, tc := range []struct {
		name, body, want string
	}{
		{"hang", hangBody(pidFile), "frankenvit child (default): timed out after 2s"},
		{"panic", dump, "frankenvit child (default): exit status 2: panic: boom"},
		{"garbage", "echo '{not json'", "frankenvit child (default): printed no measurement: invalid character 'n' looking for beginning of object key string"},
	} {
		o := childOptions("", ExecMeasurer(fakeChild(t, tc.body), "bench", "speed"))
		o.Peer = ""
		start := time.Now()
		_, err := Speed(o)
		if err == nil || err.Error() != tc.want {
			t.Errorf("%s: got error %v, want %q", tc.name, err, tc.want)
		}
		if took := time.Since(start); took > 15*time.Second {
			t.Errorf("%s: Speed took %v with a 2 s child time limit", tc.name, took)
		}
		if tc.name == "hang" && !errors.Is(err, ErrChildTimeout) {
			t.Errorf("hang: %v is not ErrChildTimeout", err)
		}
	}
}

// The derived time limits: a minute to start plus the run's work at a rate
// far below any measured, and with a budget no more than the budget lets
// the peer script run.
func TestChildTimeouts(t *testing.T) {
	def, large := SpeedModels()[0], SpeedModels()[1]
	run := func(m SpeedModel) SpeedRun {
		return SpeedRun{Model: m, Steps: 20, Warmup: 3, EvalImages: m.EvalImages, EvalBatch: 256, Seed: 1}
	}
	// default: 23 steps x 64 x 21.69 MFLOP + 10,256 x 7.23 MFLOP = 106.1 GFLOP
	if got := FrankenvitTimeout(run(def)); got != time.Minute+54*time.Second {
		t.Errorf("frankenvit, default model: %v, want 1m54s (1m + 106 GFLOP at 2 GFLOP/s, rounded up)", got)
	}
	if got := PeerTimeout(run(def), 0); got != time.Minute+213*time.Second {
		t.Errorf("peer, default model, no budget: %v, want 4m33s (1m + 106 GFLOP at 0.5 GFLOP/s)", got)
	}
	noBudget, budget := PeerTimeout(run(large), 0), PeerTimeout(run(large), time.Minute)
	if budget >= noBudget || budget < time.Minute+135*time.Second {
		t.Errorf("peer, large model: %v with a 1-minute budget, %v without; want less with, and at least 1m + 2.25 budgets", budget, noBudget)
	}
	if FrankenvitTimeout(run(large)) <= FrankenvitTimeout(run(def)) {
		t.Error("the larger model is granted no more time")
	}
}

// The line that says what went wrong is found whatever the child prints.
func TestChildReason(t *testing.T) {
	for _, tc := range []struct{ stderr, want string }{
		{"", ""},
		{"one\ntwo\n\n", "two"},
		{"panic: runtime error: index out of range [3] with length 3\n\ngoroutine 1 [running]:\nmain.f()\n", "panic: runtime error: index out of range [3] with length 3"},
		{"fatal error: all goroutines are asleep - deadlock!\n\ngoroutine 1\n", "fatal error: all goroutines are asleep - deadlock!"},
		{strings.Repeat("x", 100<<10) + "\nlast\r\n", "last"},
		{"panic: early\n" + strings.Repeat("goroutine dump\n", 10000), "panic: early"},
		{strings.Repeat("y", 500), strings.Repeat("y", 240) + "…"},
		{"tab\there\x1b[31m", "tab here [31m"},
	} {
		var h headTail
		for chunk := []byte(tc.stderr); len(chunk) > 0; { // written in pieces, as a pipe delivers it
			n := min(len(chunk), 4096)
			h.Write(chunk[:n])
			chunk = chunk[n:]
		}
		if got := h.reason(); got != tc.want {
			t.Errorf("stderr %.40q...: reason %q, want %q", tc.stderr, got, tc.want)
		}
		if len(h.head)+len(h.tail) > 2*headTailMax {
			t.Errorf("kept %d bytes of stderr", len(h.head)+len(h.tail))
		}
	}
}

// A peer row that ran on another BLAS than it asked for says so in its
// cell and in a note.
func TestBLASCell(t *testing.T) {
	for _, tc := range []struct{ blas, lib, want string }{
		{"openblas", "/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3", "openblas"},
		{"reference", "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", "reference"},
		{"openblas", "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", "openblas (but loaded reference)"},
		{"openblas", "", "openblas (but loaded no libblas.so.3)"},
		{"reference", "/opt/atlas/libblas.so.3", "reference (but loaded libblas.so.3)"},
	} {
		if got := blasCell(Measurement{Engine: "torch", BLAS: tc.blas, Library: tc.lib}); got != tc.want {
			t.Errorf("%s, %q: %q, want %q", tc.blas, tc.lib, got, tc.want)
		}
	}
	if got := blasCell(Measurement{Engine: "frankenvit", BLAS: "-"}); got != "-" {
		t.Errorf("frankenvit row: %q", got)
	}
}
